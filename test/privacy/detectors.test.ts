import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FAKE, fakePrivateKey } from "../../src/privacy/eval/fake-credentials.js";
import {
  cardNetwork,
  detectEmails,
  detectHighEntropyTokens,
  detectIbans,
  detectIpAddresses,
  detectPaymentCards,
  detectPhoneNumbers,
  detectSecrets,
  detectSensitiveData,
  detectSsns,
  type Finding,
  ibanChecksumValid,
  isHighEntropyToken,
  luhnValid,
  PrivacyConfigError,
  resolveOverlaps,
  SensitiveDataDetector,
  shannonEntropy,
} from "../../src/privacy/index.js";

const values = (found: readonly Finding[]) => found.map((f) => f.value);

/** Every finding's offsets point at its value. */
function assertOffsets(text: string, found: readonly Finding[]): void {
  for (const f of found) assert.equal(text.slice(f.start, f.end), f.value, `${f.rule} at ${f.start}`);
}

function check(detect: (text: string) => Finding[], positives: Record<string, string[]>, negatives: string[]): void {
  for (const [text, expected] of Object.entries(positives)) {
    const found = detect(text);
    assert.deepEqual(values(found), expected, text);
    assertOffsets(text, found);
  }
  for (const text of negatives) assert.deepEqual(values(detect(text)), [], text);
}

describe("detectEmails", () => {
  it("finds addresses, including internationalised ones, and nothing address-shaped that is not one", () => {
    check(
      detectEmails,
      {
        "write to maria.garcia@acme-corp.com.": ["maria.garcia@acme-corp.com"],
        "<j.doe+tag@mail.example.co.uk>": ["j.doe+tag@mail.example.co.uk"],
        "a@b.io, c_d@e-f.org": ["a@b.io", "c_d@e-f.org"],
        "Ärzte: müller@bücher.de": ["müller@bücher.de"],
        "a@b@c.com": ["b@c.com"],
      },
      [
        "icon@2x.png",
        "npm i lodash@4.17.21",
        "@types/node@20.1.0",
        "git@github.com:acme/repo.git",
        "ssh deploy@localhost",
        "x.@y.com",
        "postgres://user:pa55word@db.example.com/app",
        `https://token@github.com/acme/repo`,
      ],
    );
  });
});

describe("detectPhoneNumbers", () => {
  it("finds international, North American and national formats", () => {
    check(
      detectPhoneNumbers,
      {
        "Call +1 (415) 555-2671 today": ["+1 (415) 555-2671"],
        "+44 20 7946 0958": ["+44 20 7946 0958"],
        "+14155552671": ["+14155552671"],
        "(212) 555-0147 or 646.555.0199": ["(212) 555-0147", "646.555.0199"],
        "Téléphone : 01 42 68 53 00": ["01 42 68 53 00"],
        "mobile 07700 900123": ["07700 900123"],
        "Fax: 030/12345678": ["030/12345678"],
        "phone no. 4155552671": ["4155552671"],
      },
      [
        "v1.2.3.4",
        "on 2024-01-15 at 10:30:45",
        "15.03.2024 and 03/15/2024",
        "Order #415-555-2671",
        "Order number 555-234-5678",
        "SN: 0123 4567 8901",
        "x = 555-234-5678",
        "const MAX_ID = 4155552671;",
        "192.168.100.200",
        "ISBN 978-3-16-148410-0",
        "$1,299.99",
        "+1.5% growth",
        "000-12-3456",
        "555-123-4567",
      ],
    );
  });

  it("takes a number after a phone label joined by an underscore, not after a word that ends in one", () => {
    check(
      detectPhoneNumbers,
      {
        "tel_415-555-0134": ["415-555-0134"],
        contact_phone_4155550134: ["4155550134"],
        "phone_number: 4155550134": ["4155550134"],
        MOBILE_07700900123: ["07700900123"],
      },
      ["hotel_4155550134", "intel_415-555-0134", "phones_4155550134", "tel_2024-01-15 10:30", "fax_id_4155550134"],
    );
  });
});

describe("detectPaymentCards", () => {
  it("checks Luhn, the network's prefix and length, and the grouping", () => {
    assert.ok(luhnValid("4111111111111111"));
    assert.ok(!luhnValid("4111111111111112"));
    assert.equal(cardNetwork("378282246310005"), "amex");
    assert.equal(cardNetwork("2223003122003222"), "mastercard");
    assert.equal(cardNetwork("4111111111111"), "visa");
    assert.equal(cardNetwork("41111111111111"), undefined);
    assert.equal(cardNetwork("9111111111111111"), undefined);
    check(
      detectPaymentCards,
      {
        "card 4111 1111 1111 1111, exp 12/27": ["4111 1111 1111 1111"],
        "5555-5555-5555-4444": ["5555-5555-5555-4444"],
        "Amex 3782 822463 10005": ["3782 822463 10005"],
        "6011111111111117": ["6011111111111117"],
      },
      [
        "4111 1111 1111 1112",
        "4111-1111 1111-1111",
        "41 11 11 11 11 11 11 11",
        "3.14111111111111111",
        "41111111111111111111111",
        "1700000000000",
      ],
    );
  });

  it("finds a card number joined to a word, whatever non-digit comes before it, and no more ids than before", () => {
    check(
      detectPaymentCards,
      {
        "order-4111111111111111": ["4111111111111111"],
        "card-4111-1111-1111-1111": ["4111-1111-1111-1111"],
        "no-4111 1111 1111 1111": ["4111 1111 1111 1111"],
        "-5500000000000004": ["5500000000000004"],
        ref_4111111111111111: ["4111111111111111"],
        "acct_4111111111111111.": ["4111111111111111"],
        ".4111111111111111": ["4111111111111111"],
        card4111111111111111: ["4111111111111111"],
        v4111111111111111: ["4111111111111111"],
        "receipt_4111111111111111_visa.pdf": ["4111111111111111"],
        '{"acct-4111111111111111":"x"}': ["4111111111111111"],
      },
      [
        // Not Luhn-valid, or no network has that prefix and length: ids, timestamps, build numbers.
        "order-4111111111111112",
        "id_1234567890123456",
        "ts-1700000000000",
        "ts_1700000000000123456",
        "build-20240115103045",
        "job_9876543210123456",
        // Inside a longer number, a decimal's fraction, a dashed run, or running on into a word.
        "3.14111111111111111",
        "1-4111111111111111",
        "9_4111111111111111",
        "4111111111111111-2",
        "4111111111111111abc",
        "e3b0c44298fc1c1494111111111111111afbf4c8996fb924",
        // The end of a hex literal: a number in code, not a card number.
        "0x4214430267091109",
        "x = 0X4111111111111111;",
        "0xdeadbeef4111111111111111",
      ],
    );
  });

  it("still finds a card number after an x that does not start a hex literal", () => {
    check(
      detectPaymentCards,
      {
        box4111111111111111: ["4111111111111111"],
        a0x4111111111111111: ["4111111111111111"],
        "0x 4111111111111111": ["4111111111111111"],
      },
      [],
    );
  });
});

describe("detectIbans", () => {
  it("checks the country's length and mod 97, with or without spaces", () => {
    assert.ok(ibanChecksumValid("GB82WEST12345698765432"));
    assert.ok(!ibanChecksumValid("GB82WEST12345698765433"));
    check(
      detectIbans,
      {
        "IBAN: DE89 3704 0044 0532 0130 00 (Berlin)": ["DE89 3704 0044 0532 0130 00"],
        "to GB29NWBK60161331926819.": ["GB29NWBK60161331926819"],
        nl91abna0417164300: ["nl91abna0417164300"],
      },
      [
        "DE89370400440532013001",
        "DE89 3704 0044 0532 0130 0012",
        "ZZ12 3456 7890 1234 5678",
        "XDE89370400440532013000",
        "MP34 player",
      ],
    );
  });
});

describe("detectSsns", () => {
  it("excludes the ranges the SSA never issues", () => {
    check(
      detectSsns,
      {
        "SSN: 123-45-6789": ["123-45-6789"],
        "ssn 536 90 4399": ["536 90 4399"],
        "SSN#: 321549876": ["321549876"],
        "k123-45-6789": ["123-45-6789"],
        "scan_123_45_6789.pdf": ["123_45_6789"],
        "id=457-55-5462x": ["457-55-5462"],
      },
      [
        "000-12-3456",
        "666-45-6789",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
        "123-45-67890",
        "2024-01-15",
        "123456789",
        "123-45_6789",
        "9-123-45-6789",
        "123-45-6789-2",
        "978_123_45_6789",
      ],
    );
  });
});

describe("detectIpAddresses", () => {
  it("finds IPv4 and IPv6 addresses, not versions, OIDs, loopback, netmasks, times or C++ scopes", () => {
    check(
      detectIpAddresses,
      {
        "server 10.0.0.12 and 192.168.1.1:8080.": ["10.0.0.12", "192.168.1.1"],
        "2001:db8:85a3::8a2e:370:7334": ["2001:db8:85a3::8a2e:370:7334"],
        "fe80::1ff:fe23:4567:890a%eth0 is up": ["fe80::1ff:fe23:4567:890a%eth0"],
        "http://[2001:db8::1]:8080/": ["2001:db8::1"],
        "mapped ::ffff:192.0.2.128.": ["::ffff:192.0.2.128"],
      },
      [
        "v1.2.3.4",
        "version 1.2.3.4",
        "build: 10.0.1.2",
        "python 3.11.4.1",
        "section 1.2.3.4",
        "1.3.6.1.4.1.343",
        "1.2.3.400",
        "127.0.0.1 and 0.0.0.0 and 255.255.255.255",
        "255.255.255.0",
        "std::vector<int>",
        "12:30:45",
        "00:1A:2B:3C:4D:5E",
        "::1",
        "dead::beef",
      ],
    );
  });

  it("finds an IPv4 address joined to a word by a dash or underscore, not a version joined so", () => {
    check(
      detectIpAddresses,
      {
        "ip-10.20.30.40": ["10.20.30.40"],
        "host_192.168.1.7 is down": ["192.168.1.7"],
        "from addr-10.0.0.12:8080": ["10.0.0.12"],
        "x_10.20.30.40": ["10.20.30.40"],
        // A version's shape, but joined to a word that names an address.
        "ip-1.2.3.4": ["1.2.3.4"],
        "host_4.2.2.0": ["4.2.2.0"],
      },
      [
        "pkg-1.2.3.4",
        "foo_1.2.3.4",
        "node-1.2.3.4",
        "version_1.2.3.4",
        "build-10.0.1.2",
        "System.Runtime-4.2.2.0",
        "app_1.0.0.0",
        "x1-10.20.30.40",
        "9-10.20.30.40",
        "v1.2.3.4-10.20.30.40",
        "ip-127.0.0.1",
      ],
    );
  });
});

describe("detectSecrets", () => {
  it("finds every known credential format", () => {
    const rules = new Map<string, string>([
      [FAKE.openaiProject, "openai-api-key"],
      [FAKE.openaiLegacy, "openai-api-key"],
      [FAKE.anthropic, "anthropic-api-key"],
      [FAKE.awsAccessKeyId, "aws-access-key-id"],
      [FAKE.awsSessionKeyId, "aws-access-key-id"],
      // Digits outside base32's 2-7, as a hand-written or generated test id has them.
      [["AKIA", "Z7Q3K2M4N5P6R7S8"].join(""), "aws-access-key-id"],
      [FAKE.githubPat, "github-token"],
      [FAKE.githubApp, "github-token"],
      [FAKE.githubFineGrained, "github-fine-grained-pat"],
      [FAKE.slackBot, "slack-token"],
      [FAKE.slackUser, "slack-token"],
      [FAKE.stripeLive, "stripe-key"],
      [FAKE.stripeRestricted, "stripe-key"],
      [FAKE.googleApi, "google-api-key"],
      [FAKE.gitlab, "gitlab-token"],
      [FAKE.npm, "npm-token"],
      [FAKE.jwt, "jwt"],
    ]);
    for (const [secret, rule] of rules) {
      const text = `here: ${secret} (keep it safe)`;
      const found = detectSecrets(text);
      assert.deepEqual(
        found.map((f) => [f.value, f.rule]),
        [[secret, rule]],
        rule,
      );
      assertOffsets(text, found);
    }
  });

  it("finds AWS secret keys only near an AWS name, and private key blocks whole", () => {
    assert.deepEqual(values(detectSecrets(`aws_secret_access_key = ${FAKE.awsSecret}`)), [FAKE.awsSecret]);
    assert.deepEqual(
      detectSecrets(`blob ${FAKE.awsSecret}`).map((f) => f.rule),
      [],
    );
    const key = fakePrivateKey();
    assert.deepEqual(values(detectSecrets(`my key:\n${key}\nthanks`)), [key]);
    const truncated = fakePrivateKey("EC PRIVATE KEY").split("\n").slice(0, 4).join("\n");
    assert.deepEqual(values(detectSecrets(`${truncated}\n\nwhat is wrong?`)), [truncated]);
    assert.deepEqual(values(detectSecrets("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")), []);
  });

  it("takes the value of password, secret, key and token assignments, not placeholders or code", () => {
    check(
      detectSecrets,
      {
        "DB_PASSWORD=Sup3rS3cret!": ["Sup3rS3cret!"],
        '{"password": "c0rrect-h0rse"}': ["c0rrect-h0rse"],
        "api_key: 'a8Fk2LmQ9xR4'": ["a8Fk2LmQ9xR4"],
        "client_secret => `s3cr3t-v4lue`": ["s3cr3t-v4lue"],
        "postgres://app:s3cr3tPass@db.internal/prod": ["s3cr3tPass"],
        "The wifi password is Blue42Falcon.": ["Blue42Falcon"],
        "Authorization: Bearer abcDEF123456ghiJKL789": ["abcDEF123456ghiJKL789"],
      },
      [
        "password = os.environ['DB_PASSWORD']",
        "api_key: <YOUR_API_KEY>",
        "  password: string;",
        "max_tokens: 4096",
        '"token_type": "bearer"',
        "def login(username, password):",
        `password=\${DB_PASSWORD}`,
        "export API_KEY=your-api-key-here",
        "secretName: db-credentials",
        "password = self.password",
        "token = get_token()",
        "the password is incorrect",
        "OPENAI_API_KEY=sk-...",
        "password: ********",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "postgres://user:password@localhost/db",
      ],
    );
  });
});

describe("detectHighEntropyTokens", () => {
  it("flags random tokens and nothing else that is long", () => {
    for (const token of FAKE.tokens) assert.ok(isHighEntropyToken(token), token);
    assert.ok(shannonEntropy("aaaa") === 0 && Math.abs(shannonEntropy("abcd") - 2) < 1e-9);
    check(
      detectHighEntropyTokens,
      {
        [`session=${FAKE.tokens[2]}`]: [FAKE.tokens[2]!],
        [`https://files.example.com/share/${FAKE.tokens[3]}`]: [FAKE.tokens[3]!],
        [`sig ${FAKE.base64Token}.`]: [FAKE.base64Token],
      },
      [
        "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "123e4567-e89b-12d3-a456-426614174000",
        "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC",
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        "AbstractSingletonProxyFactoryBean2",
        "useQueryClient4TanstackV5Beta2",
        "/usr/local/lib/node_modules/typescript/lib/tsc.js",
        "my-awesome-project-2024-final-version",
        "Q".repeat(40),
      ],
    );
  });
});

describe("SensitiveDataDetector", () => {
  it("adds user patterns and keywords with their kinds and levels, and can turn built-ins off", () => {
    const detector = new SensitiveDataDetector({
      patterns: [
        { name: "employee_id", regex: "EMP-\\d{6}" },
        { name: "project", regex: "proj-[a-z]+", ignoreCase: true, level: "internal" },
      ],
      keywords: [{ words: ["Project Falcon", "bluebird"] }, { name: "codename", words: ["Nightjar"], level: "private" }],
      disabled: ["ip_address"],
    });
    const text = "EMP-123456 on PROJ-apollo and project  falcon; Bluebirds fly; NIGHTJAR ships from 10.0.0.1";
    const found = detector.detect(text);
    assert.deepEqual(
      found.map((f) => [f.kind, f.value, f.level]),
      [
        ["employee_id", "EMP-123456", "private"],
        ["project", "PROJ-apollo", "internal"],
        ["keyword", "project  falcon", "internal"],
        ["codename", "NIGHTJAR", "private"],
      ],
    );
    assertOffsets(text, found);
  });

  it("keeps a user pattern's match in JSON inside the literal it starts in", () => {
    const detector = new SensitiveDataDetector({ patterns: [{ name: "memo", regex: "MEMO[\\s\\S]+" }] });
    const json = '{"a": "MEMO: call \\"Ann\\"", "b": "next"}';
    const found = detector.detectInJson(json);
    assert.deepEqual(
      found.map((f) => [f.kind, f.value, json.slice(f.start, f.end)]),
      [["memo", 'MEMO: call "Ann"', 'MEMO: call \\"Ann\\"']],
    );
  });

  it("reports an unusable pattern or name with the path of the bad field", () => {
    assert.throws(
      () =>
        new SensitiveDataDetector({
          patterns: [
            { name: "ok", regex: "a" },
            { name: "bad", regex: "(" },
          ],
        }),
      (err: unknown) => err instanceof PrivacyConfigError && err.path === "patterns[1].regex",
    );
    assert.throws(
      () => new SensitiveDataDetector({ patterns: [{ name: "empty", regex: "x*" }] }),
      (err: unknown) => err instanceof PrivacyConfigError && /empty string/.test(err.message),
    );
    assert.throws(
      () => new SensitiveDataDetector({ keywords: [{ name: "no spaces allowed", words: ["a"] }] }),
      (err: unknown) => err instanceof PrivacyConfigError && err.path === "keywords[0].name",
    );
  });

  it("keeps one finding per region: leftmost, then longest, then the more specific detector", () => {
    const f = (start: number, end: number, rule: string): Finding => ({
      kind: "secret",
      value: "x".repeat(end - start),
      start,
      end,
      rule,
      level: "private",
    });
    assert.deepEqual(
      resolveOverlaps([f(5, 10, "b"), f(0, 4, "a"), f(5, 12, "c"), f(11, 15, "d"), f(5, 12, "e")]).map((x) => x.rule),
      ["a", "c"],
    );
    // A key inside a URL is the key, not an e-mail address or a token.
    const text = `git clone https://${FAKE.githubPat}@github.com/acme/app.git`;
    assert.deepEqual(
      detectSensitiveData(text).map((x) => [x.kind, x.value]),
      [["secret", FAKE.githubPat]],
    );
  });
});
