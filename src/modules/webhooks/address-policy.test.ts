import { describe, expect, it } from "vitest";
import { addressesRefusal, addressRefusal, hostOf, isIpLiteral, MAX_URL_LENGTH, STRICT, urlRefusal } from "./address-policy.js";

const strict = { allowLoopback: false };
const relaxed = { allowLoopback: true };

/** The machine itself: the only addresses that development and tests take beyond public ones. */
const LOOPBACK = ["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1"];

describe("addressRefusal", () => {
  it.each([
    ["169.254.169.254", "a cloud metadata address"],
    ["fd00:ec2::254", "a cloud metadata address"],
    ["0.0.0.0", "an unspecified address (0.0.0.0/8)"],
    ["0.255.255.255", "an unspecified address (0.0.0.0/8)"],
    ["10.0.0.5", "a private address"],
    ["10.255.255.255", "a private address"],
    ["100.64.0.1", "a shared (carrier-grade NAT) address"],
    ["100.127.255.254", "a shared (carrier-grade NAT) address"],
    ["100.100.100.200", "a shared (carrier-grade NAT) address"],
    ["127.0.0.1", "a loopback address"],
    ["127.255.0.9", "a loopback address"],
    ["169.254.0.1", "a link-local address"],
    ["169.254.170.2", "a link-local address"],
    ["172.16.0.1", "a private address"],
    ["172.31.255.255", "a private address"],
    ["192.0.0.192", "a reserved address"],
    ["192.0.2.10", "a documentation address"],
    ["192.88.99.1", "a reserved address"],
    ["192.168.1.1", "a private address"],
    ["198.18.0.1", "a reserved address"],
    ["198.19.255.255", "a reserved address"],
    ["198.51.100.7", "a documentation address"],
    ["203.0.113.9", "a documentation address"],
    ["224.0.0.1", "a multicast address"],
    ["239.255.255.250", "a multicast address"],
    ["240.0.0.1", "a reserved address"],
    ["255.255.255.255", "a reserved address"],
    ["::", "an unspecified address (::)"],
    ["::1", "a loopback address"],
    ["0:0:0:0:0:0:0:1", "a loopback address"],
    ["64:ff9b:1::5", "a reserved address"],
    ["100::1", "a reserved address"],
    ["2001::1", "a Teredo tunnel address"],
    ["2001:db8::1", "a documentation address"],
    ["fc00::1", "a unique local (private) address"],
    ["fdff:ffff::1", "a unique local (private) address"],
    ["fe80::1", "a link-local address"],
    ["fe80::1%eth0", "a link-local address"],
    ["febf::1", "a link-local address"],
    ["fec0::1", "a site-local address"],
    ["ff02::1", "a multicast address"],
    // IPv4 inside IPv6: mapped (both spellings), compatible, NAT64 and 6to4
    ["::ffff:127.0.0.1", "a loopback address"],
    ["::ffff:7f00:1", "a loopback address"],
    ["::ffff:169.254.169.254", "a cloud metadata address"],
    ["::ffff:10.0.0.5", "a private address"],
    ["::10.0.0.5", "a private address"],
    ["64:ff9b::a00:5", "a private address"],
    ["64:ff9b::192.168.0.1", "a private address"],
    ["2002:a00:5::1", "a private address"],
    ["2002:7f00:1::", "a loopback address"],
  ])("refuses %s as %s", (address, label) => {
    expect(addressRefusal(address)).toBe(label);
    expect(addressRefusal(address, strict)).toBe(label);
    // Relaxed, only loopback passes: metadata, link-local, private, and loopback inside a routed IPv6 form stay refused.
    expect(addressRefusal(address, relaxed)).toBe(LOOPBACK.includes(address) ? null : label);
  });

  it("production's policy is the default", () => {
    expect(STRICT).toEqual(strict);
  });

  it.each([
    "93.184.215.14",
    "8.8.8.8",
    "1.1.1.1",
    "9.255.255.255",
    "11.0.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.1",
    "169.253.255.255",
    "169.255.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
    "fbff::1",
    "fe00::1",
    "2001:1::1",
    "2001:db9::1",
  ])("lets public %s through", (address) => {
    expect(addressRefusal(address)).toBeNull();
    expect(addressRefusal(address, relaxed)).toBeNull();
  });

  it("refuses what is not an IP address", () => {
    for (const policy of [strict, relaxed]) {
      expect(addressRefusal("localhost", policy)).toBe("not an IP address");
      expect(addressRefusal("", policy)).toBe("not an IP address");
    }
  });
});

describe("urlRefusal", () => {
  it("takes public https URLs, by name or by address", () => {
    expect(urlRefusal("https://hooks.shop.example/expertline?source=el", strict)).toBeNull();
    expect(urlRefusal("https://93.184.215.14:8443/hooks", strict)).toBeNull();
    expect(urlRefusal("https://[2606:4700:4700::1111]/hooks", strict)).toBeNull();
  });

  it("needs https unless loopback is allowed", () => {
    expect(urlRefusal("http://hooks.shop.example/", strict)).toBe("must be an https:// URL");
    expect(urlRefusal("http://127.0.0.1:4000/hooks", strict)).toBe("must be an https:// URL");
    expect(urlRefusal("http://127.0.0.1:4000/hooks", relaxed)).toBeNull();
    expect(urlRefusal("http://hooks.shop.example/", relaxed)).toBeNull();
    expect(urlRefusal("ftp://hooks.shop.example/", relaxed)).toBe("must be an https:// URL");
    expect(urlRefusal("ftp://hooks.shop.example/", strict)).toBe("must be an https:// URL");
  });

  it.each([
    ["http://169.254.169.254/latest/meta-data", "must not point to 169.254.169.254: a cloud metadata address"],
    ["http://[fd00:ec2::254]/", "must not point to fd00:ec2::254: a cloud metadata address"],
    ["http://169.254.170.2/v2/credentials", "must not point to 169.254.170.2: a link-local address"],
    ["http://[fe80::1]/", "must not point to fe80::1: a link-local address"],
    ["http://10.0.0.5/", "must not point to 10.0.0.5: a private address"],
    ["http://192.168.1.20:8080/", "must not point to 192.168.1.20: a private address"],
    ["http://0.0.0.0:4000/", "must not point to 0.0.0.0: an unspecified address (0.0.0.0/8)"],
    ["http://[::ffff:169.254.169.254]/", "must not point to ::ffff:a9fe:a9fe: a cloud metadata address"],
    ["http://[64:ff9b::7f00:1]/", "must not point to 64:ff9b::7f00:1: a loopback address"],
  ])("refuses %s even where loopback is allowed", (url, reason) => {
    expect(urlRefusal(url, relaxed)).toBe(reason);
  });

  it.each(["http://localhost:4000/hooks", "http://api.localhost/hooks", "http://127.0.0.1/hooks", "http://[::1]:4000/", "http://[::ffff:127.0.0.1]/"])(
    "takes the loopback URL %s where loopback is allowed",
    (url) => {
      expect(urlRefusal(url, relaxed)).toBeNull();
    },
  );

  it.each([
    ["https://169.254.169.254/latest/meta-data", "must not point to 169.254.169.254: a cloud metadata address"],
    ["https://10.0.0.5/", "must not point to 10.0.0.5: a private address"],
    ["https://localhost/hooks", "must not point to localhost: a loopback address"],
    ["https://api.localhost/hooks", "must not point to api.localhost: a loopback address"],
    // the URL parser reads these as 127.0.0.1 and ::ffff:7f00:1
    ["https://0x7f.1/", "must not point to 127.0.0.1: a loopback address"],
    ["https://2130706433/", "must not point to 127.0.0.1: a loopback address"],
    ["https://[::ffff:127.0.0.1]/", "must not point to ::ffff:7f00:1: a loopback address"],
    ["https://[fd00:ec2::254]/", "must not point to fd00:ec2::254: a cloud metadata address"],
  ])("refuses %s in production", (url, reason) => {
    expect(urlRefusal(url, strict)).toBe(reason);
  });

  it("refuses what is never right: not a URL, too long, credentials, fragments", () => {
    for (const options of [strict, relaxed]) {
      expect(urlRefusal("hooks.shop.example/x", options)).toBe("must be an absolute URL such as https://shop.example/webhooks");
      expect(urlRefusal(`https://shop.example/${"a".repeat(MAX_URL_LENGTH)}`, options)).toBe(`must be at most ${MAX_URL_LENGTH} characters`);
      expect(urlRefusal("https://user:pass@shop.example/", options)).toMatch(/^must not contain a user name or password/);
      expect(urlRefusal("https://user@shop.example/", options)).toMatch(/^must not contain a user name or password/);
      expect(urlRefusal("https://:secret@shop.example/", options)).toMatch(/^must not contain a user name or password/);
      expect(urlRefusal("https://shop.example/hooks#x", options)).toBe("must not contain a #fragment");
    }
    expect(urlRefusal(`https://s.example/${"a".repeat(MAX_URL_LENGTH - "https://s.example/".length)}`, strict)).toBeNull();
  });
});

describe("addressesRefusal", () => {
  it("needs every address public; the shop is not told which address a name resolved to, our log is", () => {
    expect(addressesRefusal("hooks.shop.example", ["93.184.215.14", "2606:4700:4700::1111"], strict)).toBeNull();
    expect(addressesRefusal("hooks.shop.example", ["93.184.215.14", "10.1.2.3", "127.0.0.1"], strict)).toEqual({
      reason: "hooks.shop.example resolves to a non-public address",
      detail: "hooks.shop.example resolves to 10.1.2.3, a private address",
    });
    expect(addressesRefusal("localhost", ["127.0.0.1", "::1"], strict)).toEqual({
      reason: "localhost resolves to a non-public address",
      detail: "localhost resolves to 127.0.0.1, a loopback address",
    });
    // An address the shop wrote itself is no secret.
    expect(addressesRefusal("10.0.0.5", ["10.0.0.5"], strict)).toEqual({ reason: "10.0.0.5 is a private address", detail: "10.0.0.5 is a private address" });
    expect(addressesRefusal("nothing.example", [], strict)).toEqual({
      reason: "nothing.example does not resolve to any address",
      detail: "nothing.example does not resolve to any address",
    });
  });

  it("where loopback is allowed, takes loopback and still refuses the rest", () => {
    expect(addressesRefusal("localhost", ["127.0.0.1", "::1"], relaxed)).toBeNull();
    expect(addressesRefusal("postgres", ["172.18.0.3"], relaxed)).toEqual({
      reason: "postgres resolves to a non-public address",
      detail: "postgres resolves to 172.18.0.3, a private address",
    });
    expect(addressesRefusal("metadata.internal", ["127.0.0.1", "169.254.169.254"], relaxed)).toEqual({
      reason: "metadata.internal resolves to a non-public address",
      detail: "metadata.internal resolves to 169.254.169.254, a cloud metadata address",
    });
    expect(addressesRefusal("nothing.example", [], relaxed)?.reason).toBe("nothing.example does not resolve to any address");
  });
});

describe("hostOf and isIpLiteral", () => {
  it("unwraps IPv6 literals and tells addresses from names", () => {
    expect(hostOf(new URL("https://[::1]:8443/x"))).toBe("::1");
    expect(hostOf(new URL("https://Shop.Example/x"))).toBe("shop.example");
    expect(isIpLiteral("::1")).toBe(true);
    expect(isIpLiteral("10.0.0.5")).toBe(true);
    expect(isIpLiteral("shop.example")).toBe(false);
  });
});
