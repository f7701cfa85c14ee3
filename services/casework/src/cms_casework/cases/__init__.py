"""Cases: the application, the people on it and the calculation in force."""
