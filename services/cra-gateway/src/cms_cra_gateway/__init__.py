"""cra-gateway: a credit reference agency for CMS enforcement; here, a simulation behind a port."""
