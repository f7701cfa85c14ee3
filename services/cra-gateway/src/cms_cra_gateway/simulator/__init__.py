"""The simulated credit reference agency: the only code of this gateway that imports cms_simulation. Generated credit
files over the shared synthetic population (credit_files.py) and the scenario changes made to them (changes.py), the
port implemented over them with the simulated system's behaviour (adapter.py), the stored changes and search
footprints (models.py), the scenario admin service (service.py, servicer.py) and the settings the gateway runs with
while simulated (settings.py)."""
