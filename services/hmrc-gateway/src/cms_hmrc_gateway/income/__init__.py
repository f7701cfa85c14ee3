"""Income enquiries: the tax years HMRC answers for and the RTI window current income is averaged over."""
