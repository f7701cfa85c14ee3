"""dwp-gateway: DWP's Customer Information System and Jobcentre Plus for the CMS; here, a simulation."""
