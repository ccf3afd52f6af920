"""Vipps MobilePay sandbox: a local test double of the Vipps APIs and the customer app."""
