"""hmrc-gateway: HMRC's interfaces for the CMS, behind a port; here, a simulation of HMRC."""
