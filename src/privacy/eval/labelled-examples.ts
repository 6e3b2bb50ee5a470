import type { BuiltinKind } from "../finding.js";
import { FAKE, fakePrivateKey } from "./fake-credentials.js";

/** One labelled text: every piece of sensitive data in it, by kind and exact value. */
export interface LabelledExample {
  text: string;
  expected: readonly { kind: BuiltinKind; value: string }[];
  /** What makes it interesting, for hard negatives mostly. */
  note?: string;
}

type Expected = readonly [BuiltinKind, string];

const pos = (text: string, ...expected: Expected[]): LabelledExample => ({
  text,
  expected: expected.map(([kind, value]) => ({ kind, value })),
});
const neg = (text: string, note: string): LabelledExample => ({ text, expected: [], note });

const EMAIL: readonly LabelledExample[] = [
  pos("Please send the invoice to maria.garcia@acme-corp.com by Friday.", ["email", "maria.garcia@acme-corp.com"]),
  pos("Contact: j.doe+newsletter@gmail.com", ["email", "j.doe+newsletter@gmail.com"]),
  pos(
    "CC bob_smith@mail.example.org and alice@example.io on this.",
    ["email", "bob_smith@mail.example.org"],
    ["email", "alice@example.io"],
  ),
  pos('<a href="mailto:support@company.de">Write to us</a>', ["email", "support@company.de"]),
  pos('From: "Li Wei" <li.wei@university.edu.cn>', ["email", "li.wei@university.edu.cn"]),
  pos("my email is kate.oneil@outlook.com, thanks", ["email", "kate.oneil@outlook.com"]),
  pos('{"user": {"email": "tom.h@startup.ai", "plan": "pro"}}', ["email", "tom.h@startup.ai"]),
  pos("user=peter.parker@dailybugle.news;role=admin", ["email", "peter.parker@dailybugle.news"]),
  pos("Reply to hr-team@bigcorp.co.uk.", ["email", "hr-team@bigcorp.co.uk"]),
  pos("Mail 12345@students.uni-bonn.de for the transcript", ["email", "12345@students.uni-bonn.de"]),
  pos("The author (firstname.lastname@inria.fr) notes that", ["email", "firstname.lastname@inria.fr"]),
  pos("git config --global user.email sam.lee@protonmail.com", ["email", "sam.lee@protonmail.com"]),
];

const PHONE: readonly LabelledExample[] = [
  pos("Call me at +1 415-555-2671 tomorrow.", ["phone", "+1 415-555-2671"]),
  pos("Office: +44 20 7946 0958", ["phone", "+44 20 7946 0958"]),
  pos("Ruf mich an: +49 30 12345678", ["phone", "+49 30 12345678"]),
  pos("Téléphone : 01 42 68 53 00", ["phone", "01 42 68 53 00"]),
  pos("My cell is (212) 555-0147", ["phone", "(212) 555-0147"]),
  pos("Reach the front desk at 646.555.0199.", ["phone", "646.555.0199"]),
  pos("WhatsApp +33 6 12 34 56 78 after lunch", ["phone", "+33 6 12 34 56 78"]),
  pos("UK mobile 07700 900123", ["phone", "07700 900123"]),
  pos("phone: 4155552671", ["phone", "4155552671"]),
  pos("+61 2 9876 5432 is the Sydney office", ["phone", "+61 2 9876 5432"]),
  pos("Dial +1 (800) 555-0199 for support", ["phone", "+1 (800) 555-0199"]),
  pos("Tel. 030/12345678", ["phone", "030/12345678"]),
  pos("Call 917 555 0123 after 5pm", ["phone", "917 555 0123"]),
  pos("Tokyo office +81 3-1234-5678", ["phone", "+81 3-1234-5678"]),
  pos('{"name": "Ana", "phone": "+34 612 345 678"}', ["phone", "+34 612 345 678"]),
  pos("caller tel_415-555-0134 hung up", ["phone", "415-555-0134"]),
];

const CARD: readonly LabelledExample[] = [
  pos("Card: 4111 1111 1111 1111, exp 12/27", ["payment_card", "4111 1111 1111 1111"]),
  pos("charge 5555-5555-5555-4444 please", ["payment_card", "5555-5555-5555-4444"]),
  pos("Amex 3782 822463 10005 on file", ["payment_card", "3782 822463 10005"]),
  pos("number 6011111111111117", ["payment_card", "6011111111111117"]),
  pos("JCB 3530111333300000 was declined", ["payment_card", "3530111333300000"]),
  pos("visa=4012888888881881", ["payment_card", "4012888888881881"]),
  pos("MC 5105 1051 0510 5100 expires soon", ["payment_card", "5105 1051 0510 5100"]),
  pos("pay with 371449635398431", ["payment_card", "371449635398431"]),
  pos("Diners Club 30569309025904", ["payment_card", "30569309025904"]),
  pos("new Mastercard range 2223 0031 2200 3222", ["payment_card", "2223 0031 2200 3222"]),
  pos('{"card_number": "4000056655665556", "cvc": "123"}', ["payment_card", "4000056655665556"]),
  pos("Discover card #6011 0009 9013 9424", ["payment_card", "6011 0009 9013 9424"]),
  pos("refund for order-4111111111111111 issued", ["payment_card", "4111111111111111"]),
  pos("log: ref_5500000000000004 declined", ["payment_card", "5500000000000004"]),
];

const IBAN: readonly LabelledExample[] = [
  pos("IBAN: DE89 3704 0044 0532 0130 00", ["iban", "DE89 3704 0044 0532 0130 00"]),
  pos("Pay to GB29NWBK60161331926819 by the 5th", ["iban", "GB29NWBK60161331926819"]),
  pos("FR14 2004 1010 0505 0001 3M02 606 (Paris)", ["iban", "FR14 2004 1010 0505 0001 3M02 606"]),
  pos("cuenta ES9121000418450200051332", ["iban", "ES9121000418450200051332"]),
  pos("IT60 X054 2811 1010 0000 0123 456", ["iban", "IT60 X054 2811 1010 0000 0123 456"]),
  pos("rekening NL91ABNA0417164300.", ["iban", "NL91ABNA0417164300"]),
  pos("BE68 5390 0754 7034", ["iban", "BE68 5390 0754 7034"]),
  pos("Konto CH93 0076 2011 6238 5295 7", ["iban", "CH93 0076 2011 6238 5295 7"]),
  pos("AT611904300234573201", ["iban", "AT611904300234573201"]),
  pos("PL61 1090 1014 0000 0712 1981 2874", ["iban", "PL61 1090 1014 0000 0712 1981 2874"]),
  pos("Norwegian account NO9386011117947", ["iban", "NO9386011117947"]),
  pos('{"iban":"SE4550000000058398257466"}', ["iban", "SE4550000000058398257466"]),
];

const SSN: readonly LabelledExample[] = [
  pos("SSN: 123-45-6789", ["ssn", "123-45-6789"]),
  pos("social security number 219-09-9999", ["ssn", "219-09-9999"]),
  pos("her SSN is 078-05-1120", ["ssn", "078-05-1120"]),
  pos("ssn 536 90 4399", ["ssn", "536 90 4399"]),
  pos("Employee record: name=J. Doe, ssn=457-55-5462", ["ssn", "457-55-5462"]),
  pos("SSN#: 321549876", ["ssn", "321549876"]),
  pos("Applicant 772-31-0942 passed the check", ["ssn", "772-31-0942"]),
  pos('{"ssn": "501-22-3344"}', ["ssn", "501-22-3344"]),
  pos("Social Security No. 612-40-1187 on the W-2", ["ssn", "612-40-1187"]),
  pos("taxpayer 145-67-2290, filing jointly", ["ssn", "145-67-2290"]),
];

const IP: readonly LabelledExample[] = [
  pos("The server at 10.0.0.12 refuses connections", ["ip_address", "10.0.0.12"]),
  pos("X-Forwarded-For: 198.51.100.23", ["ip_address", "198.51.100.23"]),
  pos("my home IP is 84.112.5.201", ["ip_address", "84.112.5.201"]),
  pos("psql -h 192.168.1.20 -p 5432", ["ip_address", "192.168.1.20"]),
  pos("connect to 172.16.254.1:8443 and retry", ["ip_address", "172.16.254.1"]),
  pos("allowlist 203.0.113.7/32", ["ip_address", "203.0.113.7"]),
  pos("IPv6 2001:db8:85a3::8a2e:370:7334 is unreachable", ["ip_address", "2001:db8:85a3::8a2e:370:7334"]),
  pos("link-local fe80::1ff:fe23:4567:890a on eth0", ["ip_address", "fe80::1ff:fe23:4567:890a"]),
  pos("curl http://[2001:db8::1]:8080/health", ["ip_address", "2001:db8::1"]),
  pos("mapped ::ffff:192.0.2.128 in the logs", ["ip_address", "::ffff:192.0.2.128"]),
  pos("blocked client ip-84.112.5.201 twice", ["ip_address", "84.112.5.201"]),
  pos("nameserver 2606:4700:4700::1111", ["ip_address", "2606:4700:4700::1111"]),
  pos("Failed password for root from 45.33.32.156 port 22 ssh2", ["ip_address", "45.33.32.156"]),
];

const SECRET: readonly LabelledExample[] = [
  pos(`OPENAI_API_KEY=${FAKE.openaiProject}`, ["secret", FAKE.openaiProject]),
  pos(`use ${FAKE.openaiLegacy} for the old org`, ["secret", FAKE.openaiLegacy]),
  pos(`client = Anthropic(api_key="${FAKE.anthropic}")`, ["secret", FAKE.anthropic]),
  pos(`aws_access_key_id = ${FAKE.awsAccessKeyId}`, ["secret", FAKE.awsAccessKeyId]),
  pos(`aws_secret_access_key = ${FAKE.awsSecret}`, ["secret", FAKE.awsSecret]),
  pos(`temporary creds ${FAKE.awsSessionKeyId} expire in an hour`, ["secret", FAKE.awsSessionKeyId]),
  pos(`git clone https://${FAKE.githubPat}@github.com/acme/private.git`, ["secret", FAKE.githubPat]),
  pos(`GITHUB_TOKEN: ${FAKE.githubApp}`, ["secret", FAKE.githubApp]),
  pos(`token ${FAKE.githubFineGrained}`, ["secret", FAKE.githubFineGrained]),
  pos(`SLACK_BOT_TOKEN="${FAKE.slackBot}"`, ["secret", FAKE.slackBot]),
  pos(`my slack user token is ${FAKE.slackUser}`, ["secret", FAKE.slackUser]),
  pos(`stripe.api_key = "${FAKE.stripeLive}"`, ["secret", FAKE.stripeLive]),
  pos(`restricted key ${FAKE.stripeRestricted} for the webhook`, ["secret", FAKE.stripeRestricted]),
  pos(`https://maps.googleapis.com/maps/api/geocode/json?key=${FAKE.googleApi}`, ["secret", FAKE.googleApi]),
  pos(`Authorization: Bearer ${FAKE.jwt}`, ["secret", FAKE.jwt]),
  pos(`here is my key:\n${fakePrivateKey()}\nwhy does ssh reject it?`, ["secret", fakePrivateKey()]),
  pos(`${fakePrivateKey("OPENSSH PRIVATE KEY")}`, ["secret", fakePrivateKey("OPENSSH PRIVATE KEY")]),
  pos("DB_PASSWORD=Sup3rS3cret!", ["secret", "Sup3rS3cret!"]),
  pos('{"username": "admin", "password": "c0rrect-h0rse"}', ["secret", "c0rrect-h0rse"]),
  pos("spring.datasource.password: Tr0ub4dor&3", ["secret", "Tr0ub4dor&3"]),
  pos("postgres://app:s3cr3tPass@db.internal:5432/prod", ["secret", "s3cr3tPass"]),
  pos("The wifi password is Blue42Falcon", ["secret", "Blue42Falcon"]),
  pos(`GITLAB_TOKEN=${FAKE.gitlab}`, ["secret", FAKE.gitlab]),
  pos(`//registry.npmjs.org/:_authToken=${FAKE.npm}`, ["secret", FAKE.npm]),
  pos("api_key: 'a8Fk2LmQ9xR4'", ["secret", "a8Fk2LmQ9xR4"]),
];

const TOKEN: readonly LabelledExample[] = FAKE.tokens
  .map(
    (t, i) =>
      [
        pos(`session cookie ${t} expired`, ["token", t]),
        pos(`The link is https://files.example.com/share/${t}`, ["token", t]),
        pos(`X-Request-Signature: ${t}`, ["token", t]),
        pos(`paste this into the app: ${t}`, ["token", t]),
      ][i % 4]!,
  )
  .concat([pos(`signature ${FAKE.base64Token} attached`, ["token", FAKE.base64Token])]);

const HARD_NEGATIVES: readonly LabelledExample[] = [
  // Versions, dates, times, prices, numbers.
  neg("Upgrade the agent to v1.2.3.4 before Monday", "version with v"),
  neg("release 4.2.1.0 is out", "four-part version after 'release'"),
  neg("node 20.11.1 and npm 10.2.4", "semver"),
  neg("semver 1.0.0-beta.2+build.5", "semver with pre-release"),
  neg("Mozilla/5.0 Chrome/120.0.6099.109 Safari/537.36", "user agent"),
  neg("see section 1.2.3.4 of the spec", "section number"),
  neg("OID 1.3.6.1.4.1.343 identifies the vendor", "OID"),
  neg("Meeting on 2024-03-15 at 14:30:00", "date and time"),
  neg("Due 15.03.2024, reminder on 01.03.2024", "European dates"),
  neg("03/15/2024 10:45 AM", "US date"),
  neg("2024-01-15T10:30:00Z", "ISO timestamp"),
  neg("timestamp 1700000000000", "epoch millis"),
  neg("Total: $1,299.99 (was $1,499.00)", "prices"),
  neg("Preis: 2.499,00 EUR", "European price"),
  neg("The world population is 8,045,311,447", "large number"),
  neg("Ports 8080, 8443 and 5432 are open", "ports"),
  neg("coordinates 48.8566, 2.3522", "coordinates"),
  neg("Room 404, floor 12, building 7", "small numbers"),
  neg("pi is 3.14159265358979323846", "decimal"),
  // Order ids, serials, ISBNs and other phone-like or card-like numbers.
  neg("Order #4111-2345-6789 has shipped", "order number"),
  neg("Order number 555-234-5678", "order number shaped like a phone"),
  neg("Invoice INV-2024-000123 is overdue", "invoice id"),
  neg("Serial number 0123 4567 8901", "serial shaped like a phone"),
  neg("SN: 555-234-5678", "serial after SN"),
  neg("ISBN 978-3-16-148410-0", "ISBN"),
  neg("Tracking 1Z999AA10123456784", "UPS tracking"),
  neg("x = 555-234-5678", "arithmetic"),
  neg("const MAX_ID = 4155552671;", "constant in code"),
  neg("ticket 020-7946-0958 is closed", "ticket number"),
  neg("4111 1111 1111 1112", "Luhn fails"),
  neg("5555555555554445", "Luhn fails"),
  neg("Account 1234567812345678", "16 digits, Luhn fails"),
  neg("id 9876543210123456", "16 digits, no card prefix"),
  neg("job_1700000000000123 finished at ts-1700000000000", "ids and epoch millis joined to words"),
  neg("build-20240115103045 and run_9876543210123456", "build and run numbers joined to words"),
  neg("package System.Runtime-4.2.2.0 and node-20.1.0.4", "four-part versions joined to names"),
  neg("bumped pkg-1.2.3.4 and foo_1.2.3.4", "one-digit four-part versions joined to names"),
  neg("mov rax, 0x4214430267091109", "a hex literal whose digits are all decimal"),
  neg("DE89370400440532013001", "IBAN-like, mod-97 fails"),
  neg("GB29NWBK60161331926818", "IBAN-like, mod-97 fails"),
  neg("FR14 2004 1010 0505 0001 3M02 607", "IBAN-like, mod-97 fails"),
  neg("ZZ12 3456 7890 1234 5678", "unknown country"),
  neg("000-12-3456 is not a valid SSN", "SSN area 000"),
  neg("666-45-6789", "SSN area 666"),
  neg("900-12-3456", "ITIN range"),
  neg("part 123-45-67890", "too many digits"),
  // Hashes, ids, encoded data.
  neg("commit 9fceb02d0ae598e95dc970b74767f19372d61af8", "git SHA"),
  neg("git cherry-pick a1b2c3d", "short SHA"),
  neg("request id 123e4567-e89b-12d3-a456-426614174000", "UUID"),
  neg('const digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";', "sha256 in code"),
  neg(
    '<script src="app.js" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"></script>',
    "SRI hash",
  ),
  neg("docker pull nginx@sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4", "image digest"),
  neg("md5 d41d8cd98f00b204e9800998ecf8427e", "md5"),
  neg(
    '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">',
    "base64 image",
  ),
  neg(
    '{"image": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL"}',
    "base64 JPEG",
  ),
  // Words and identifiers.
  neg("pneumonoultramicroscopicsilicovolcanoconiosis", "long word"),
  neg("Supercalifragilisticexpialidocious, said Mary", "long word"),
  neg("class AbstractSingletonProxyFactoryBean2 extends Base", "identifier"),
  neg("document.getElementsByClassName('x')", "identifier"),
  neg("XMLHttpRequestUploadEventTarget4", "identifier"),
  neg("import { useQueryClient4TanstackV5Beta2 } from './hooks'", "identifier"),
  neg("test_user_Service_Handler_v20240115", "identifier"),
  neg("/usr/local/lib/node_modules/typescript/lib/tsc.js", "path"),
  neg("https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz", "URL"),
  neg("my-awesome-project-2024-final-version", "slug"),
  neg("The quick brown fox jumps over the lazy dog.", "prose"),
  // Secret-shaped non-secrets.
  neg("OPENAI_API_KEY=sk-...", "elided key"),
  neg("password = os.environ['DB_PASSWORD']", "environment lookup"),
  neg("api_key: <YOUR_API_KEY>", "placeholder"),
  neg("  password: string;", "type annotation"),
  neg("max_tokens: 4096", "token count"),
  neg('"token_type": "bearer"', "token type"),
  neg("def login(username, password):", "parameter"),
  neg("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AWS documentation example"),
  neg(`password=\${DB_PASSWORD}`, "template variable"),
  neg("Bearer token authentication is described in RFC 6750", "prose about tokens"),
  neg("export API_KEY=your-api-key-here", "placeholder"),
  neg("secretName: db-credentials", "names a secret"),
  neg("the password is incorrect, try again", "prose"),
  // Address-shaped non-addresses.
  neg("icon@2x.png and logo@3x.jpg", "retina assets"),
  neg("npm i lodash@4.17.21 @types/node@20.1.0", "package versions"),
  neg("git@github.com:acme/repo.git", "SSH remote"),
  neg("ssh deploy@localhost", "no TLD"),
  neg("loopback 127.0.0.1 and 0.0.0.0", "loopback and unspecified"),
  neg("netmask 255.255.255.0", "netmask"),
  neg("std::vector<int> v; std::map<a, b>", "C++ scopes"),
  neg("elapsed 12:30:45", "time"),
  neg("MAC 00:1A:2B:3C:4D:5E", "MAC address"),
  neg("bind to ::1 only", "IPv6 loopback"),
  neg("image: nginx:1.25.3", "image tag"),
];

/** The labelled set: positives of every built-in kind and hard negatives. */
export const LABELLED_EXAMPLES: readonly LabelledExample[] = [
  ...EMAIL,
  ...PHONE,
  ...CARD,
  ...IBAN,
  ...SSN,
  ...IP,
  ...SECRET,
  ...TOKEN,
  ...HARD_NEGATIVES,
];
