"""Word lists the pseudonymiser leans on: first names it should catch, words it must keep.

Detection of personal names is evidence-based (see ``pseudonymise.py``); these lists are
the evidence that needs no model.  First names are common given names in Norway (SSB
name statistics, all generations, plus frequent names of immigrant background).  The keep
lists hold what looks like a name but is not one in this domain: institutions, services,
programmes, places, months and weekdays.  Extend them here; a project-specific list of
names goes in a names file instead (``--names FILE``).
"""
from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FIRST_NAMES = _words("""
Aase Abdi Abdullahi Adam Adrian Agnes Agnete Agnieszka Ahmad Ahmed Aisha Alexander Alf Alfred Ali Alice Alma
Amalie Amanda Amina Ammar Amund Ana Anders Andrea Andreas Andrzej Anette Anita Anja Ann Anna Anne Anne-Grete
Anne-Lise Anne-Marie Annette Anniken Ansgar Ante Arild Arne Arnfinn Arnt Aron Arve Arvid Asbjørn Aslak Asle
Astrid Atle Audun Axel Aya Ayan Bahar Barbara Beate Bendik Benedicte Benedikte Benjamin Bente Berit Bernt
Birgit Birgitte Birger Bjarne Bjørg Bjørn Bodil Borghild Brage Bror Brynjar Camilla Carina Carl Caroline
Cathrine Cecilie Celine Charlotte Christer Christian Christina Christine Christoffer Dagfinn Dagny Dagrun
Daniel Danuta David Didrik Ebba Edel Edvard Edvin Egil Eilif Eilin Einar Eirik Eivind Elias Elin Elisabeth
Elise Ella Ellen Elling Elsa Else Embla Emil Emilie Emma Endre Erik Erika Erlend Erling Eskil Espen Esten
Even Eva Evelyn Even Fatima Fatma Filip Finn Frank Fredrik Freya Frida Fride Frode Frøydis Gabriel Gaute
Geir Gerd Gina Gisle Gjermund Grete Grethe Gro Gudrun Gudmund Gulbrand Gunhild Gunn Gunnar Gunnhild Gustav
Guttorm Guri Gyda Hege Hafsa Hakon Halvard Halvor Hamza Hanna Hanne Hans Harald Hassan Hedda Hedvig Heidi
Helen Helene Helga Helge Hella Henning Henny Henrik Henriette Herman Hilde Hildegunn Hilmar Hjalmar Hjørdis
Hussein Håkon Hallvard Håvard Ibrahim Ida Idun Inga Inge Ingebjørg Ingeborg Inger Ingrid Ingrid-Marie Ingvild
Ingvar Irene Iris Isabel Isabella Isak Ivan Ivar Jakob Jakub Jan Janne Jarle Jenny Jens Jeanette Jo Joachim
Johan Johanna Johanne Johannes John Jon Jonas Jonathan Jorunn Jostein Julia Julie Jørgen Jørn Kaja Kamilla
Karen Kari Karianne Karin Karina Karl Karoline Kasper Katarzyna Kathrine Katrine Kaya Kenneth Khadija Kine
Kjell Kjersti Kjetil Klara Knut Kristian Kristin Kristine Kristoffer Kåre Lars Laila Lea Leah Leila Lena
Lene Leon Leonora Liam Lill Lilly Linda Line Linn Linnea Lisa Lise Live Liv-Marit Ludvig Lukas Magne
Magnus Maja Malin Marcus Mari Maria Mariam Marianne Marie Marit Marius Markus Marte Martha Martin
Martine Maryam Mathias Mathilde Mats Matteus Mette Mia Mikael Mikkel Milan Mina Mohamed Mohammad Mohammed
Mona Monica Monika Morten Muhammad Mustafa Nadia Natalia Nikolai Nils Nina Noah Noor Nora Norunn Odd Oddbjørn
Odd-Arne Oddny Oddrun Ola Olaf Olav Ole Oliver Olivia Olga Omar Oscar Oskar Paul Pernille Peder Petter
Philip Piotr Pia Preben Rafal Ragna Ragnar Ragnhild Randi Rania Rasmus Reidar Reidun Rigmor Rita Robert
Roger Rolf Roy Runa Rune Ruth Rut Sahra Said Sandra Sanna Sara Sarah Selma Sergei Signe Sigrid Sigrun Sigurd
Silje Simen Simon Sindre Siri Siren Sissel Sivert Snorre Sofia Sofie Solfrid Solveig Sondre Sonja Steffen
Stian Stig Stine Sturla Sunniva Susanne Svanhild Synne Synnøve Sølvi Søren Teodor Terje Thea Theodor Thomas
Thor Thorbjørn Thale Tiril Tobias Tom Tomasz Tonje Tor-Arne Tora Torbjørn Tord Tore Torgeir Torgny Torhild
Toril Torill Torleif Torstein Tove Trine Trond Trude Trygve Turid Tuva Unn Unni Vebjørn Vegard Vegar Veronica
Vibeke Victoria Vidar Viktor Vilde Vilja Villemo Wenche Wilhelm Willy Yasmin Yusuf Yvonne Zahra Zainab Øystein
Øyvind Åge Åsa Åse Åshild Åsmund Aud Brit Britt Dag Eli Ella Gry Kim Liv Mai Per Siv Sol Stein Sten Storm
Svein Tone Tor Vår Ask Bo Ulf Leif Lise Gunvor Ingunn Jorunn Marita Merete Nanna Oddveig Ragnvald Sverre
Tarald Torunn Ulla Ylva Åsta Hilde-Marie Elisabet Jannicke Hanne-Lise Kai Kaia Kristina Kjartan Bjørnar
""")

# First names that are also ordinary words when they begin a sentence ("Dag etter dag …"):
# at a sentence start they count as a name only when a surname follows.
AMBIGUOUS_FIRST_NAMES = _words("""
Ask Bo Brit Dag Eli Else Even Gry Iris Kai Kim Liv Mai Mona Per Rut Siv Sol Stein Sten Storm Svein Tone Tor Vår
Ulf Leif Live Line Lene Ruth Frank Hella Milan Klara Rita Ella Nanna Rune Lea Gro Jo Said Unn Tora
""")

# Institutions, services, programmes and the like that look like proper names but are not persons.
INSTITUTIONS = _words("""
Bufdir Bufetat Statsforvalteren Statsforvaltaren Statsforvalter Fylkesmannen Fylkesmann Nav NAV Helsestasjonen
Helsestasjon Barnehuset Barnehus BTI TIBIR PMTO ICDP COS COS-P BUP PPT PP-tjenesten SLT KS Ungdata Udir
Helsedirektoratet Hdir Barneombudet Sivilombudet Kvello Heckman Familiens Familievernet Familieteamet
Barneverntjenesten Barnevernet Barnevern Kommunedirektøren Kommunedirektør Rådmannen Ordføreren Kommunestyret
Formannskapet Oppvekstforum Ungdomsrådet Skolen Barnehagen Fritidsklubben Statens Nasjonalt Nasjonal Norsk
Norske Norges Regionalt Regional Senter Senteret Kompetansesenter Universitetet Universitet Høgskolen Høgskulen
Direktoratet Departementet Stortinget Regjeringen Kommune Kommunen Fylkeskommune Fylkeskommunen RBUP RKBU NUBU
KoRus Redd Barna Kirkens Bymisjon Røde Kors Frelsesarmeen Home-Start Nurse Family Partnership Circle Security
Meo DUÅ Familieråd Familierådslag MST FFT FIT PALS Tidlig Trygg Oppvekst SINTEF NOVA OsloMet FHI SSB KOSTRA
Teams Zoom Skype Messenger Facebook Instagram Snapchat TikTok Google Microsoft Word Excel Gule Sider BarnsBeste
Barnevernsvakten Politiet Politi Helse Sykehuset Sykehus Legevakten DPS ABUP Krisesenteret Krisesenter
""")

# Cities, regions and countries: never a person on their own (but a surname may equal one).
PLACES = _words("""
Sør Nord
Vest Øst Sørlandet Nordland Vestland Innlandet Viken Trøndelag Agder Rogaland Finnmark Troms Møre Romsdal
Telemark Vestfold Buskerud Østfold Akershus Oslo Bergen Trondheim Stavanger Tromsø Kristiansand Drammen
Fredrikstad Sandnes Sarpsborg Skien Bodø Ålesund Arendal Tønsberg Haugesund Moss Porsgrunn Hamar Halden Larvik
Lillehammer Molde Harstad Gjøvik Kongsberg Narvik Alta Steinkjer Mo Rana Elverum Ski Asker Bærum Lørenskog
Norge Sverige Danmark Finland Europa Norden
""")

# Multi-word names of things, kept whole (checked before any name detection).
KEEP_PHRASES = (
    "Familiens hus", "Familiens Hus", "Marte Meo", "Home-Start Familiekontakt", "Nurse Family Partnership",
    "Circle of Security", "De utrolige årene", "Barne- og familiedepartementet", "Gule Sider", "Røde Kors",
    "Redd Barna", "Kirkens Bymisjon", "Statens barnehus",
)

MONTHS_AND_DAYS = _words("""
Januar Februar Mars April Mai Juni Juli August September Oktober November Desember
Mandag Tirsdag Onsdag Torsdag Fredag Lørdag Søndag Jul Påske Pinse Nyttår Sankthans
""")

# Place-name heads: "Indre Dal", "Nedre Eiker", "Store Vinje" are places, not people.
PLACE_PREFIXES = _words("Indre Ytre Nedre Øvre Søndre Nordre Vestre Østre Store Lille Nye Gamle Sankt")

# Words after which a capitalised word is a place or an organisation rather than a person.
LOCATION_PREPOSITIONS = _words("i på fra til ved mot over gjennom utenfor nær rundt innen via mellom")

# Nouns that mark the words before them as a place or an organisation: "Fjordvik kommune".
PLACE_MARKERS = _words("kommune kommunes kommunestyre fylke fylkeskommune bydel sentrum skole skule barnehage "
                       "sykehus kirke stasjon havn gård legesenter helsestasjon barneskole ungdomsskole")
