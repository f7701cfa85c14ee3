"""Word lists for the generator: names, places and employers. Weighted lists are (value, weight) pairs.

Names are common in Great Britain (ONS name statistics give the flavour, not the exact frequencies), with Welsh,
Scottish Gaelic and Irish names, hyphens, apostrophes and accented letters, because those are what breaks matching.
Telephone numbers use Ofcom's ranges reserved for drama (never allocated to a real line).
"""

from __future__ import annotations

FEMALE_FORENAMES: tuple[tuple[str, int], ...] = (
    ("Sarah", 30), ("Emma", 28), ("Laura", 26), ("Claire", 24), ("Lisa", 20), ("Rebecca", 22), ("Gemma", 22),
    ("Amy", 22), ("Rachel", 20), ("Nicola", 18), ("Kelly", 18), ("Jennifer", 16), ("Hannah", 20), ("Jessica", 18),
    ("Charlotte", 20), ("Sophie", 20), ("Louise", 16), ("Michelle", 16), ("Samantha", 16), ("Zoe", 12), ("Natalie", 14),
    ("Katie", 16), ("Lauren", 16), ("Stacey", 10), ("Danielle", 12), ("Kirsty", 10), ("Joanne", 12), ("Helen", 12),
    ("Victoria", 12), ("Stephanie", 10), ("Amanda", 10), ("Karen", 10), ("Susan", 8), ("Julie", 10), ("Tracey", 8),
    ("Dawn", 6), ("Angela", 8), ("Elizabeth", 12), ("Lucy", 16), ("Chloe", 16), ("Jade", 12), ("Leanne", 10),
    ("Hayley", 10), ("Holly", 10), ("Megan", 10), ("Georgia", 8), ("Eleanor", 8), ("Abigail", 8), ("Ella", 6),
    ("Grace", 8), ("Olivia", 8), ("Emily", 12), ("Kayleigh", 6), ("Chantelle", 4), ("Shannon", 6), ("Aimee", 6),
    ("Bethan", 6), ("Siân", 5), ("Cerys", 4), ("Ffion", 4), ("Catrin", 4), ("Rhiannon", 4), ("Nia", 4), ("Elin", 3),
    ("Seren", 2), ("Carys", 3), ("Angharad", 2), ("Gwenllian", 1), ("Llinos", 1), ("Eirlys", 1), ("Lowri", 3),
    ("Eilidh", 3), ("Mhairi", 3), ("Kirstin", 2), ("Morag", 1), ("Catriona", 2), ("Iona", 2), ("Ailsa", 1),
    ("Niamh", 4), ("Siobhán", 3), ("Aoife", 3), ("Róisín", 2), ("Caoimhe", 1), ("Sinéad", 2), ("Orla", 2),
    ("Mary-Jane", 2), ("Anne-Marie", 4), ("Lucy-Ann", 1), ("Mary-Kate", 1), ("Sarah-Louise", 2), ("Jo-Anne", 2),
    ("Fatima", 6), ("Aisha", 6), ("Ayesha", 4), ("Zainab", 4), ("Maryam", 4), ("Amina", 3), ("Nadia", 4),
    ("Priya", 5), ("Sunita", 3), ("Anjali", 3), ("Harpreet", 3), ("Gurpreet", 2), ("Shabana", 2), ("Nasreen", 2),
    ("Chiamaka", 2), ("Ngozi", 2), ("Adaeze", 1), ("Abena", 2), ("Ama", 1), ("Folasade", 1), ("Blessing", 3),
    ("Agnieszka", 3), ("Katarzyna", 3), ("Magdalena", 2), ("Małgorzata", 1), ("Joanna", 4), ("Ewa", 2),
    ("Ioana", 2), ("Elena", 3), ("Maria", 6), ("Ana", 2), ("Chloé", 1), ("Zoë", 2), ("Renée", 1), ("Mei", 2),
    ("Xin", 1), ("Yan", 1), ("Toni", 2), ("Jo", 2), ("Kerry", 6), ("Shelley", 4), ("Leah", 8), ("Jasmine", 6),
)

MALE_FORENAMES: tuple[tuple[str, int], ...] = (
    ("David", 30), ("James", 30), ("Daniel", 26), ("Michael", 26), ("Christopher", 24), ("Matthew", 24),
    ("Mark", 20), ("Paul", 20), ("Andrew", 22), ("Richard", 18), ("Thomas", 22), ("Robert", 18), ("John", 18),
    ("Stephen", 14), ("Lee", 14), ("Craig", 12), ("Jamie", 14), ("Adam", 16), ("Ryan", 16), ("Liam", 14),
    ("Jonathan", 12), ("Simon", 10), ("Gareth", 10), ("Darren", 10), ("Wayne", 8), ("Kevin", 10), ("Gary", 10),
    ("Jason", 10), ("Dean", 8), ("Scott", 12), ("Ben", 14), ("Samuel", 12), ("Joshua", 12), ("Luke", 14),
    ("Nathan", 10), ("Jack", 14), ("Callum", 8), ("Kieran", 8), ("Connor", 8), ("Aaron", 8), ("Alexander", 10),
    ("William", 12), ("Joseph", 12), ("Anthony", 12), ("Peter", 10), ("Ian", 8), ("Neil", 8), ("Martin", 8),
    ("Alex", 8), ("Sean", 8), ("Shaun", 6), ("Carl", 6), ("Stuart", 8), ("Ross", 6), ("Graham", 4), ("Philip", 6),
    ("Rhys", 6), ("Dafydd", 3), ("Gethin", 3), ("Iwan", 2), ("Aled", 2), ("Huw", 3), ("Gwilym", 1), ("Llŷr", 1),
    ("Emyr", 1), ("Osian", 2), ("Rhodri", 2), ("Cai", 2), ("Dylan", 5), ("Owain", 2), ("Ieuan", 1), ("Tomos", 2),
    ("Ruairidh", 2), ("Calum", 3), ("Euan", 3), ("Fraser", 3), ("Hamish", 1), ("Angus", 2), ("Lachlan", 1),
    ("Seán", 2), ("Oisín", 2), ("Ciarán", 3), ("Pádraig", 1), ("Eoin", 2), ("Declan", 3), ("Niall", 3),
    ("Jean-Paul", 1), ("Jean-Luc", 1), ("John-Paul", 2), ("Lee-Roy", 1), ("D'Arcy", 1),
    ("Mohammed", 10), ("Muhammad", 8), ("Ali", 5), ("Imran", 5), ("Tariq", 3), ("Usman", 3), ("Bilal", 3),
    ("Hamza", 4), ("Omar", 4), ("Yusuf", 4), ("Arjun", 3), ("Rajesh", 3), ("Sanjay", 3), ("Vikram", 2),
    ("Gurdeep", 2), ("Harjit", 2), ("Amit", 3), ("Kwame", 2), ("Kofi", 2), ("Chidi", 2), ("Emeka", 2),
    ("Oluwaseun", 1), ("Tunde", 2), ("Tobi", 2), ("Piotr", 4), ("Tomasz", 4), ("Krzysztof", 2), ("Łukasz", 2),
    ("Marcin", 3), ("Andrei", 2), ("Ionuț", 1), ("Mihai", 2), ("Luca", 3), ("Marco", 2), ("José", 2),
    ("Wei", 2), ("Jun", 1), ("Hao", 1), ("Duc", 1), ("Darius", 1), ("Reece", 6), ("Jordan", 8), ("Kyle", 8),
)

CHILD_FEMALE: tuple[tuple[str, int], ...] = (
    ("Olivia", 10), ("Amelia", 10), ("Isla", 9), ("Ava", 9), ("Mia", 8), ("Ivy", 6), ("Lily", 8), ("Isabella", 7),
    ("Sophia", 7), ("Freya", 7), ("Grace", 6), ("Evie", 6), ("Poppy", 6), ("Ella", 6), ("Florence", 5),
    ("Willow", 5), ("Emily", 7), ("Jessica", 5), ("Ruby", 6), ("Chloe", 5), ("Sophie", 5), ("Daisy", 5),
    ("Phoebe", 4), ("Matilda", 4), ("Harper", 4), ("Millie", 5), ("Maisie", 4), ("Layla", 4), ("Aria", 4),
    ("Eva", 4), ("Ellie", 5), ("Holly", 3), ("Megan", 3), ("Lucy", 4), ("Hannah", 3), ("Katie", 3), ("Zara", 3),
    ("Nia", 2), ("Seren", 2), ("Ffion", 2), ("Cerys", 2), ("Eira", 1), ("Mali", 1), ("Alys", 1), ("Eilidh", 2),
    ("Orla", 2), ("Aoife", 1), ("Niamh", 2), ("Maryam", 3), ("Fatima", 3), ("Aisha", 3), ("Hafsa", 1),
    ("Anaya", 2), ("Amara", 2), ("Zuzanna", 1), ("Lena", 2), ("Lily-Mae", 2), ("Ellie-May", 1), ("Rosie-Ann", 1),
)

CHILD_MALE: tuple[tuple[str, int], ...] = (
    ("Oliver", 10), ("Noah", 10), ("George", 9), ("Muhammad", 9), ("Leo", 8), ("Arthur", 8), ("Oscar", 7),
    ("Harry", 8), ("Jack", 8), ("Theo", 7), ("Freddie", 6), ("Alfie", 6), ("Charlie", 7), ("Jacob", 6),
    ("Henry", 6), ("Thomas", 6), ("William", 6), ("Archie", 5), ("Joshua", 5), ("James", 6), ("Lucas", 5),
    ("Ethan", 5), ("Mason", 4), ("Logan", 4), ("Finley", 4), ("Max", 4), ("Riley", 4), ("Tyler", 4),
    ("Dylan", 4), ("Callum", 3), ("Kai", 3), ("Reuben", 3), ("Louie", 3), ("Zachary", 3), ("Harrison", 3),
    ("Osian", 2), ("Tomos", 2), ("Cai", 2), ("Macsen", 1), ("Gruffydd", 1), ("Ifan", 1), ("Rhys", 2),
    ("Ruaridh", 1), ("Lewis", 3), ("Finlay", 2), ("Cillian", 1), ("Oisín", 1), ("Ibrahim", 3), ("Yusuf", 3),
    ("Ayaan", 2), ("Zayn", 2), ("Aarav", 1), ("Jakub", 2), ("Kacper", 1), ("Tobiah", 1), ("Tobi", 1),
    ("Kian", 2), ("Jayden", 3), ("Alfie-James", 1), ("Jay-Jay", 1),
)

SURNAMES: tuple[tuple[str, int], ...] = (
    ("Smith", 60), ("Jones", 50), ("Williams", 40), ("Taylor", 30), ("Brown", 30), ("Davies", 30), ("Evans", 25),
    ("Wilson", 22), ("Thomas", 22), ("Johnson", 20), ("Roberts", 20), ("Robinson", 16), ("Thompson", 16),
    ("Wright", 16), ("Walker", 16), ("White", 14), ("Edwards", 14), ("Hughes", 16), ("Green", 14), ("Hall", 14),
    ("Lewis", 14), ("Harris", 14), ("Clarke", 12), ("Patel", 16), ("Jackson", 12), ("Wood", 12), ("Turner", 12),
    ("Martin", 12), ("Cooper", 12), ("Hill", 12), ("Ward", 12), ("Morris", 12), ("Moore", 10), ("Clark", 10),
    ("Lee", 10), ("King", 10), ("Baker", 10), ("Harrison", 10), ("Morgan", 12), ("Allen", 10), ("James", 10),
    ("Scott", 10), ("Phillips", 10), ("Watson", 8), ("Davis", 8), ("Parker", 8), ("Price", 10), ("Bennett", 8),
    ("Young", 8), ("Griffiths", 10), ("Mitchell", 8), ("Kelly", 8), ("Cook", 8), ("Carter", 8), ("Richardson", 8),
    ("Bailey", 8), ("Collins", 8), ("Bell", 8), ("Shaw", 8), ("Murphy", 8), ("Miller", 8), ("Cox", 6),
    ("Richards", 8), ("Khan", 12), ("Marshall", 6), ("Anderson", 8), ("Simpson", 6), ("Ellis", 6), ("Adams", 6),
    ("Singh", 10), ("Begum", 8), ("Wilkinson", 6), ("Foster", 6), ("Chapman", 6), ("Powell", 6), ("Webb", 6),
    ("Rogers", 6), ("Gray", 6), ("Mason", 6), ("Ali", 8), ("Hunt", 6), ("Hussain", 8), ("Campbell", 8),
    ("Matthews", 6), ("Owen", 8), ("Palmer", 6), ("Holmes", 6), ("Mills", 6), ("Barnes", 6), ("Knight", 6),
    ("Lloyd", 8), ("Butler", 6), ("Russell", 6), ("Barker", 6), ("Fisher", 6), ("Stevens", 6), ("Jenkins", 8),
    ("Murray", 6), ("Dixon", 6), ("Harvey", 6), ("Graham", 4), ("Pearson", 4), ("Ahmed", 8), ("Fletcher", 4),
    ("Walsh", 4), ("Kaur", 6), ("Gibson", 4), ("Howard", 4), ("Andrews", 4), ("Stewart", 6), ("Elliott", 4),
    ("Reynolds", 4), ("Saunders", 4), ("Payne", 4), ("Fox", 4), ("Ford", 4), ("Pritchard", 4), ("Rees", 5),
    ("Llewellyn", 3), ("Prosser", 2), ("Bowen", 3), ("Vaughan", 3), ("Powell-Jones", 1), ("Howells", 2),
    ("ap Rhys", 1), ("ap Gwilym", 1), ("Parry", 4), ("Pugh", 3), ("Meredith", 2), ("Gruffudd", 1),
    ("MacDonald", 5), ("McLeod", 3), ("MacKenzie", 3), ("McKay", 3), ("MacLean", 3), ("McGregor", 2),
    ("Robertson", 5), ("Fraser", 3), ("Ross", 3), ("Sutherland", 2), ("Mac an t-Saoir", 1), ("NicLeòid", 1),
    ("O'Brien", 4), ("O'Neill", 4), ("O'Connor", 4), ("O'Sullivan", 3), ("O'Reilly", 2), ("O'Donnell", 2),
    ("McCarthy", 3), ("Ó Súilleabháin", 1), ("D'Souza", 2), ("D'Cruz", 1), ("D'Arcy", 1), ("N'Diaye", 1),
    ("Okafor", 2), ("Adeyemi", 2), ("Mensah", 2), ("Osei", 2), ("Okonkwo", 1), ("Adebayo", 2), ("Boateng", 2),
    ("Nowak", 3), ("Kowalski", 2), ("Wiśniewska", 1), ("Wójcik", 1), ("Kowalczyk", 1), ("Popescu", 2),
    ("Chen", 3), ("Wong", 3), ("Li", 2), ("Nguyen", 2), ("Silva", 2), ("Santos", 2), ("Rossi", 1), ("Müller", 1),
    ("Shah", 5), ("Chowdhury", 3), ("Rahman", 4), ("Iqbal", 3), ("Mahmood", 3), ("Sharma", 3), ("Gill", 4),
    ("Sandhu", 2), ("Bibi", 3), ("Francis", 4), ("Grant", 4), ("Campbell-Brown", 1), ("Lloyd-Williams", 1),
)

# (post town, weight, postcode districts)
POST_TOWNS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("LONDON", 120, ("E1", "E8", "E13", "E17", "N1", "N7", "N17", "N18", "SE1", "SE6", "SE15", "SE18", "SE28", "SW2",
                     "SW9", "SW16", "SW17", "W3", "W10", "W12", "NW6", "NW10")),
    ("BIRMINGHAM", 30, ("B5", "B8", "B11", "B23", "B29", "B31", "B44")),
    ("MANCHESTER", 22, ("M8", "M9", "M14", "M20", "M23", "M40")),
    ("LEEDS", 18, ("LS6", "LS8", "LS9", "LS11", "LS14", "LS17")),
    ("LIVERPOOL", 15, ("L4", "L6", "L8", "L11", "L15", "L25")),
    ("BRISTOL", 14, ("BS3", "BS4", "BS5", "BS7", "BS13", "BS16")),
    ("SHEFFIELD", 14, ("S2", "S5", "S6", "S10", "S13")),
    ("NEWCASTLE UPON TYNE", 10, ("NE4", "NE5", "NE6", "NE15")),
    ("NOTTINGHAM", 10, ("NG3", "NG5", "NG7", "NG8")),
    ("LEICESTER", 10, ("LE2", "LE3", "LE4", "LE5")),
    ("COVENTRY", 8, ("CV1", "CV2", "CV3", "CV6")),
    ("BRADFORD", 8, ("BD3", "BD4", "BD5", "BD8")),
    ("HULL", 7, ("HU3", "HU5", "HU8", "HU9")),
    ("STOKE-ON-TRENT", 7, ("ST1", "ST3", "ST4", "ST6")),
    ("WOLVERHAMPTON", 7, ("WV1", "WV4", "WV10", "WV11")),
    ("DERBY", 6, ("DE1", "DE21", "DE22", "DE23")),
    ("SOUTHAMPTON", 6, ("SO14", "SO15", "SO16", "SO19")),
    ("PORTSMOUTH", 5, ("PO1", "PO2", "PO4")),
    ("PLYMOUTH", 6, ("PL2", "PL4", "PL5", "PL6")),
    ("READING", 5, ("RG1", "RG2", "RG30")),
    ("BRIGHTON", 5, ("BN1", "BN2", "BN3")),
    ("NORWICH", 5, ("NR2", "NR3", "NR5")),
    ("PRESTON", 5, ("PR1", "PR2", "PR5")),
    ("BOLTON", 5, ("BL1", "BL2", "BL3")),
    ("SUNDERLAND", 5, ("SR2", "SR4", "SR5")),
    ("MIDDLESBROUGH", 5, ("TS1", "TS3", "TS4", "TS5")),
    ("BLACKPOOL", 4, ("FY1", "FY3", "FY4")),
    ("PETERBOROUGH", 4, ("PE1", "PE2", "PE4")),
    ("EXETER", 3, ("EX1", "EX2", "EX4")),
    ("CARDIFF", 12, ("CF3", "CF5", "CF10", "CF11", "CF14", "CF24")),
    ("SWANSEA", 6, ("SA1", "SA2", "SA5", "SA6")),
    ("NEWPORT", 5, ("NP19", "NP20")),
    ("WREXHAM", 3, ("LL11", "LL12", "LL13")),
    ("BANGOR", 1, ("LL57",)),
    ("CAERNARFON", 1, ("LL55",)),
    ("ABERYSTWYTH", 1, ("SY23",)),
    ("CARMARTHEN", 1, ("SA31",)),
    ("LLANELLI", 2, ("SA14", "SA15")),
    ("MERTHYR TYDFIL", 2, ("CF47", "CF48")),
    ("PONTYPRIDD", 2, ("CF37", "CF38")),
    ("EDINBURGH", 12, ("EH4", "EH6", "EH7", "EH11", "EH16", "EH17")),
    ("GLASGOW", 16, ("G3", "G12", "G21", "G31", "G42", "G51", "G53")),
    ("ABERDEEN", 5, ("AB10", "AB16", "AB24")),
    ("DUNDEE", 4, ("DD2", "DD3", "DD4")),
    ("INVERNESS", 2, ("IV2", "IV3")),
    ("PAISLEY", 2, ("PA1", "PA2", "PA3")),
    ("STORNOWAY", 1, ("HS1",)),
)

POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # never C I K M O V

STREETS: tuple[str, ...] = (
    "High Street", "Station Road", "Church Street", "Victoria Road", "Park Road", "Queen Street", "Green Lane",
    "Manor Road", "Church Lane", "King Street", "Albert Road", "Mill Lane", "New Road", "Grange Road", "York Road",
    "Springfield Road", "George Street", "Highfield Road", "Chester Road", "London Road", "Alexandra Road",
    "North Street", "South Street", "Windsor Road", "Kingsway", "The Crescent", "Orchard Close", "Willow Way",
    "Beech Avenue", "Oak Drive", "Meadow View", "Riverside Walk", "Cedar Gardens", "Holly Close", "Elm Grove",
    "Ash Grove", "Maple Court", "Hawthorn Road", "Primrose Hill", "Ladysmith Terrace", "Coronation Street",
    "Jubilee Close", "Cromwell Road", "Nelson Street", "Wellington Road", "Trafalgar Way", "Brunswick Place",
    "Heol y Felin", "Heol Llanishen Fach", "Ffordd y Parc", "Stryd Fawr", "Lôn Las", "Heol Isaf", "Maes y Coed",
    "Cae'r Gof", "Bryn Hyfryd", "Pen-y-Bryn", "Clos y Nant", "Sràid na h-Eaglais", "St Mary's Road", "St John's Close",
    "Bishop's Walk", "Queen's Drive", "King's Road", "Shepherd's Bush Green", "Gallowgate", "Canongate", "Leith Walk",
    "Byres Road", "Great Western Road", "Dumbarton Road", "Union Street", "Princes Street", "Market Street",
)

FLAT_WORDS = ("Flat", "Flat", "Flat", "Apartment", "Unit")
HOUSE_NAMES = ("Rose Cottage", "The Willows", "Ty Gwyn", "Bryn Awel", "Hillview", "The Old Forge", "Glenview")

EMPLOYER_WORDS = (
    "Northgate", "Riverside", "Highfield", "Oakwood", "Pennine", "Severn", "Thames", "Clyde", "Mersey", "Tyne",
    "Cambrian", "Caledonian", "Albion", "Britannia", "Summit", "Horizon", "Meridian", "Keystone", "Beacon", "Harbour",
    "Greenway", "Castle", "Abbey", "Crown", "Phoenix", "Orchard", "Ashdown", "Westfield", "Eastgate", "Copperfield",
    "Llanwern", "Taff", "Dyfed", "Gwent", "Moray", "Lomond", "Fenland", "Wessex", "Mercia", "Anglia",
)
EMPLOYER_TRADES = (
    "Logistics", "Care Services", "Engineering", "Construction", "Retail", "Foods", "Recruitment", "Security",
    "Cleaning Services", "Facilities Management", "Motors", "Joinery", "Print", "Hospitality", "Dental Care",
    "Nurseries", "Software", "Consulting", "Accountancy", "Transport", "Plumbing & Heating", "Electrical",
    "Manufacturing", "Packaging", "Distribution", "Homecare", "Pharmacy", "Vets", "Estate Agents", "Builders Merchants",
)
EMPLOYER_SUFFIXES = ("Ltd", "Ltd", "Ltd", "Limited", "plc", "LLP", "Group Ltd", "(UK) Ltd")
PUBLIC_EMPLOYERS = (
    "{town} City Council", "{town} Borough Council", "{town} Teaching Hospitals NHS Trust",
    "{town} and District NHS Foundation Trust", "{town} College", "University of {town}",
    "{town} Academies Trust", "{town} Housing Association",
)
BIG_EMPLOYERS = (
    "Albion Supermarkets plc", "Britannia Parcel Services Ltd", "Crown Home Stores plc", "Meridian Bank plc",
    "Horizon Telecom plc", "Summit Fulfilment UK Ltd", "Greenway Coffee Houses Ltd", "Pennine Rail Ltd",
    "Beacon Care Group Ltd", "Keystone Facilities Services Ltd", "Phoenix Fast Food Restaurants Ltd",
    "Castle Security Services Ltd", "Harbour Logistics Ltd", "Ministry of Justice", "Department for Work and Pensions",
    "HM Revenue and Customs", "Home Office", "Royal Mail Group Ltd", "Network Rail Infrastructure Ltd",
)
PENSION_PAYERS = (
    "Local Government Pension Scheme ({town})", "NHS Pensions", "Teachers' Pensions", "Civil Service Pensions",
    "Albion Supermarkets Pension Trustees Ltd", "Meridian Bank Pension Fund", "Royal Mail Pension Plan",
    "Britannia Life Annuities Ltd", "Horizon Telecom Pension Scheme", "Armed Forces Pension Scheme",
)
# HMRC tax office numbers used in PAYE references.
TAX_OFFICES = ("120", "123", "210", "247", "406", "475", "581", "613", "651", "754", "838", "846", "901", "961")
# Ofcom drama numbers (never allocated to a real line): prefix, then a number 0-999 in that many digits.
DRAMA_NUMBERS = (
    ("0113 496 0", 3), ("0114 496 0", 3), ("0115 496 0", 3), ("0116 496 0", 3), ("0117 496 0", 3),
    ("0118 496 0", 3), ("0121 496 0", 3), ("0131 496 0", 3), ("0141 496 0", 3), ("0151 496 0", 3),
    ("0161 496 0", 3), ("020 7946 0", 3), ("0191 498 0", 3), ("029 2018 0", 3), ("01632 960", 3),
)
