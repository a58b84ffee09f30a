"""Turkey's 81 provinces: the seed draws customers from them, the ETL writes them to `provinces`."""

# The 81 provinces with approximate population in thousands (TÜİK 2023, rounded): customers
# are drawn in proportion, so İstanbul dominates as it does in any Turkish customer base.
PROVINCES: dict[str, int] = {
    "İstanbul": 15655, "Ankara": 5803, "İzmir": 4479, "Bursa": 3214, "Antalya": 2696,
    "Konya": 2320, "Adana": 2270, "Şanlıurfa": 2213, "Gaziantep": 2164, "Kocaeli": 2102,
    "Mersin": 1916, "Diyarbakır": 1818, "Hatay": 1544, "Manisa": 1468, "Kayseri": 1445,
    "Samsun": 1377, "Balıkesir": 1273, "Kahramanmaraş": 1116, "Van": 1128, "Aydın": 1161,
    "Tekirdağ": 1142, "Sakarya": 1100, "Denizli": 1056, "Muğla": 1048, "Eskişehir": 906,
    "Mardin": 870, "Malatya": 742, "Trabzon": 818, "Erzurum": 749, "Ordu": 763,
    "Afyonkarahisar": 747, "Sivas": 634, "Adıyaman": 604, "Tokat": 596, "Zonguldak": 588,
    "Batman": 634, "Elazığ": 591, "Kütahya": 580, "Çanakkale": 559, "Osmaniye": 557,
    "Şırnak": 557, "Çorum": 524, "Ağrı": 510, "Giresun": 450, "Isparta": 445,
    "Aksaray": 433, "Yozgat": 418, "Edirne": 414, "Düzce": 400, "Muş": 399,
    "Kastamonu": 388, "Uşak": 375, "Kırklareli": 369, "Niğde": 365, "Bitlis": 353,
    "Rize": 345, "Siirt": 331, "Amasya": 335, "Nevşehir": 310, "Hakkari": 275,
    "Bolu": 320, "Kars": 274, "Bingöl": 283, "Karaman": 260, "Kırıkkale": 277,
    "Yalova": 296, "Burdur": 273, "Karabük": 252, "Kırşehir": 243, "Erzincan": 239,
    "Sinop": 221, "Bartın": 204, "Iğdır": 204, "Çankırı": 196, "Artvin": 169,
    "Gümüşhane": 144, "Kilis": 155, "Ardahan": 92, "Bilecik": 228, "Bayburt": 86,
    "Tunceli": 89,
}
