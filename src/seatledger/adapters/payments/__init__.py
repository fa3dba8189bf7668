"""Payment providers behind ``seatledger.domain.payments.PaymentGateway``."""
