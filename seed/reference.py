"""Reference pools for the synthetic company: provinces, mobile prefixes, catalogue, teams,
note templates. Turkish facts Faker does not give (its tr_TR addresses and phones are US-shaped).
"""
from __future__ import annotations

from crm360.geography import PROVINCES  # noqa: F401  (re-exported for the generator)

# Mobile operator prefixes (Turkcell 53x, Vodafone 54x, Türk Telekom 50x/55x).
MOBILE_PREFIXES = (
    [f"53{d}" for d in range(10)]
    + [f"54{d}" for d in range(1, 10)]
    + ["501", "505", "506", "507", "551", "552", "553", "554", "555", "559"]
)

EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "icloud.com", "yandex.com")

# Category: (list-price range in TRY, typical items). Brands are invented.
CATALOGUE: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    "Elektronik": ((1500, 65000), ("Akıllı Telefon", "Kablosuz Kulaklık", "Dizüstü Bilgisayar",
                   "Tablet", "Akıllı Saat", "Robot Süpürge", "Televizyon", "Kahve Makinesi")),
    "Ev & Yaşam": ((150, 9000), ("Nevresim Takımı", "Tencere Seti", "Halı", "Masa Lambası",
                   "Havlu Seti", "Çay Makinesi", "Saklama Kabı", "Yastık")),
    "Giyim": ((200, 4000), ("Mont", "Kazak", "Kot Pantolon", "Spor Ayakkabı", "Gömlek",
              "Elbise", "Çanta", "Eşofman")),
    "Kozmetik": ((80, 1800), ("Parfüm", "Nemlendirici", "Şampuan", "Ruj", "Güneş Kremi",
                 "Saç Kurutma Makinesi", "Tıraş Makinesi", "Makyaj Seti")),
    "Kitap & Hobi": ((60, 700), ("Roman", "Çocuk Kitabı", "Puzzle", "Boya Seti", "Defter",
                     "Kutu Oyunu", "Ajanda", "Kalem Seti")),
    "Spor & Outdoor": ((250, 12000), ("Koşu Bandı", "Bisiklet", "Çadır", "Yoga Matı",
                       "Dambıl Seti", "Termos", "Uyku Tulumu", "Kamp Sandalyesi")),
    "Anne & Bebek": ((100, 5000), ("Bebek Arabası", "Oto Koltuğu", "Mama Sandalyesi",
                     "Bebek Bezi", "Biberon Seti", "Oyun Parkı", "Emzik", "Bebek Telsizi")),
    "Süpermarket": ((30, 900), ("Kahve", "Zeytinyağı", "Deterjan", "Çay", "Bal", "Makarna",
                    "Peynir", "Kuruyemiş")),
}
BRANDS = ("Nova", "Atlas", "Ekin", "Lale", "Boğaziçi", "Kuzey", "Marmara", "Defne",
          "Pınar", "Toros", "Yakamoz", "Çınar")

# Known defects with the date a fix shipped (days before as-of; None: not fixed yet).
# (category, item, title, reported days ago, fixed days ago, fix description)
PRODUCT_ISSUES = (
    ("Elektronik", "Kablosuz Kulaklık", "Şarj kutusu kulaklığı şarj etmiyor", 330, 240,
     "Yazılım güncellemesi 2.1 ile şarj sorunu giderildi"),
    ("Elektronik", "Robot Süpürge", "Harita kaydı siliniyor", 200, 60,
     "Uygulama güncellemesi ile harita kaydı kalıcı hale getirildi"),
    ("Elektronik", "Kahve Makinesi", "Conta sızıntısı", 120, 20,
     "Yeni conta parçası ücretsiz gönderiliyor"),
    ("Spor & Outdoor", "Koşu Bandı", "Hız ayarı kendiliğinden değişiyor", 90, None, None),
)

TEAMS = {
    "Çağrı Merkezi": ("phone",),
    "Dijital Destek": ("email", "web_chat", "sms"),
    "Sosyal Medya": ("social",),
    "Mağaza": ("in_person",),
    "Şikayet Yönetimi": ("post",),
    "Teknik Destek": (),
}

# Contact mix for inbound and outbound service contacts (share of all interactions).
CHANNEL_MIX = {"phone": 0.36, "email": 0.19, "web_chat": 0.16, "social": 0.09, "sms": 0.08,
               "in_person": 0.10, "post": 0.02}

TOPICS = {
    "order_status": "Sipariş durumu soruldu, kargo takip bilgisi paylaşıldı",
    "delivery": "Teslimat adresi ve zamanı teyit edildi",
    "return_request": "İade talebi alındı, iade kodu iletildi",
    "billing": "Fatura tutarı ve taksit bilgisi açıklandı",
    "product_info": "Ürün özellikleri ve stok durumu hakkında bilgi verildi",
    "technical_support": "Kurulum adımları birlikte yapıldı",
    "account": "Hesap bilgileri güncellendi",
    "campaign": "Kampanya koşulları anlatıldı",
    "complaint": "Şikayet kaydı alındı, müşteriye bilgi verildi",
    "complaint_followup": "Şikayetin durumu hakkında müşteri bilgilendirildi",
}
TOPIC_WEIGHTS = {"order_status": 0.24, "delivery": 0.12, "return_request": 0.1, "billing": 0.1,
                 "product_info": 0.18, "technical_support": 0.1, "account": 0.08,
                 "campaign": 0.08}

COMPLAINT_TEXT = {
    "late_delivery": ("Siparişim söz verilen tarihte gelmedi", "Kargo firmasıyla görüşüldü, teslimat hızlandırıldı"),
    "defective_product": ("Ürün kısa sürede arızalandı", "Ürün değiştirildi"),
    "out_of_stock": ("Sipariş verdiğim ürün stokta yokmuş", "Muadil ürün önerildi, fark iade edildi"),
    "billing_error": ("Faturada fazla tutar çekildi", "Fazla çekilen tutar iade edildi"),
    "rude_staff": ("Mağaza çalışanı kaba davrandı", "Özür dilendi, ilgili ekibe eğitim verildi"),
    "wrong_item": ("Yanlış ürün gönderildi", "Doğru ürün gönderildi, yanlış ürün geri alındı"),
    "refund_delay": ("İadem hâlâ hesabıma yatmadı", "İade işlemi tamamlandı"),
    "technical_issue": ("Uygulamada ödeme adımında hata alıyorum", "Hata giderildi, müşteriye bilgi verildi"),
}

SURVEY_COMMENTS = {
    "promoter": ("Çok memnun kaldım, teşekkürler", "Hızlı ve güler yüzlü hizmet",
                 "Arkadaşlarıma da tavsiye ettim"),
    "passive": ("Fena değil", "Teslimat biraz daha hızlı olabilirdi", "Ortalama bir deneyim"),
    "detractor": ("Sorunum hâlâ çözülmedi", "Kimse geri dönmedi", "Bir daha alışveriş yapmam"),
}
