"""Documents the engine renders for people: invoices as PDF (``invoice_pdf``)."""
