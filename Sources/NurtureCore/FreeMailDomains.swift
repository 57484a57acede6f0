/// Consumer mailbox providers: an address there says nothing about an employer, so `email_domain: free_mail`
/// can cost fit points. Matched like any domain list (a subdomain counts as its parent).
public enum FreeMailDomains {
    public static let all: Set<String> = [
        // Google, Yahoo, Microsoft, AOL, Apple
        "gmail.com", "googlemail.com",
        "yahoo.com", "yahoo.fr", "yahoo.co.uk", "yahoo.de", "yahoo.es", "yahoo.it", "yahoo.ca", "yahoo.com.br",
        "yahoo.co.jp", "ymail.com", "rocketmail.com",
        "hotmail.com", "hotmail.fr", "hotmail.co.uk", "hotmail.de", "hotmail.es", "hotmail.it", "hotmail.be",
        "outlook.com", "outlook.fr", "outlook.de", "outlook.es", "live.com", "live.fr", "live.co.uk", "live.be",
        "msn.com", "passport.com",
        "aol.com", "aol.fr", "aim.com",
        "icloud.com", "me.com", "mac.com",
        // Europe
        "gmx.com", "gmx.de", "gmx.fr", "gmx.net", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de",
        "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "neuf.fr", "bbox.fr", "numericable.fr",
        "club-internet.fr", "aliceadsl.fr",
        "libero.it", "virgilio.it", "tiscali.it", "telenet.be", "skynet.be", "bluewin.ch",
        "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "btinternet.com",
        "mail.ru", "inbox.ru", "list.ru", "bk.ru", "yandex.ru", "yandex.com", "ya.ru", "rambler.ru",
        // Privacy-minded and independent providers
        "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tuta.io",
        "zoho.com", "mail.com", "fastmail.com", "hey.com",
        // North America internet providers
        "comcast.net", "verizon.net", "att.net", "sbcglobal.net",
        // Asia
        "qq.com", "163.com", "126.com", "sina.com", "naver.com", "hanmail.net", "daum.net", "rediffmail.com",
    ]
}
