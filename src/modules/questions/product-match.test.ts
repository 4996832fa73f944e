import { describe, expect, it } from "vitest";
import { matchProductInText, parseProductChoice, wordsOf, type NamedProduct } from "./product-match.js";

const g30: NamedProduct = { id: "g30", name: "Grainfather G30", aliases: ["G30", "the Grainfather"] };
const g70: NamedProduct = { id: "g70", name: "Grainfather G70", aliases: ["G70"] };
const grainfather: NamedProduct = { id: "gf", name: "Grainfather", aliases: [] };
const kettle: NamedProduct = { id: "kettle", name: "Brew Kettle", aliases: ["kettle"] };
const cafe: NamedProduct = { id: "cafe", name: "Café Crème Roaster", aliases: ["Crème"] };
const blank: NamedProduct = { id: "blank", name: "!!!", aliases: ["", "  "] };

describe("wordsOf", () => {
  it.each([
    ["My G30's pump!", ["my", "g30", "s", "pump"]],
    ["  Café   CRÈME  ", ["cafe", "creme"]],
    ["grain-father/g30", ["grain", "father", "g30"]],
    ["ＧＲＡＩＮ", ["grain"]],
    ["", []],
    ["?!", []],
  ])("%j -> %j", (input, words) => {
    expect(wordsOf(input)).toEqual(words);
  });
});

describe("matchProductInText", () => {
  it.each([
    ["an alias inside punctuation", "my G30's pump is loud", [g30, g70, kettle], "g30"],
    ["the name, any case", "GRAINFATHER g70 question", [g30, g70, kettle], "g70"],
    ["accents ignored both ways", "the creme setting", [cafe, kettle], "cafe"],
    ["accents in the text", "my Café Crème roaster smokes", [cafe, kettle], "cafe"],
    ["a multi-word alias", "is the grainfather safe?", [g30, kettle], "g30"],
    ["the longer overlapping name wins", "my grainfather g30 leaks", [grainfather, g30], "g30"],
    ["the shorter name alone", "my grainfather leaks", [grainfather, g70], "gf"],
    ["the same product twice is one product", "G30 or Grainfather G30?", [g30, g70], "g30"],
    ["a single product named", "kettle", [kettle], "kettle"],
    ["whole words only: no prefix", "my G300 is new", [g30, g70], null],
    ["whole words only: no suffix", "XG30 pump", [g30], null],
    ["whole words only: not inside a word", "kettles", [kettle], null],
    ["a phrase must be contiguous", "grainfather old g70", [g70], "g70"],
    ["a phrase split by other words does not count as the name", "grainfather old g70", [{ ...g70, aliases: [] }], null],
    ["a phrase cut short at the end of the text", "I own a grainfather", [{ ...g30, aliases: [] }], null],
    ["two products named apart", "my G30 or my kettle?", [g30, kettle], null],
    ["two products named side by side", "g30 kettle", [g30, kettle], null],
    ["two products named apart, even of different lengths", "grainfather g30 and a kettle", [g30, kettle], null],
    ["nothing named", "how long should I mash?", [g30, g70, kettle], null],
    ["no products", "my G30", [], null],
    ["empty text", "", [g30], null],
    ["labels without letters never match", "!!! help", [blank, kettle], null],
  ])("%s", (_, text, products, expected) => {
    expect(matchProductInText(text, products)).toBe(expected);
  });

  it("two products sharing an alias are ambiguous", () => {
    const a = { id: "a", name: "Alpha", aliases: ["pump"] };
    const b = { id: "b", name: "Beta", aliases: ["pump"] };
    expect(matchProductInText("my pump", [a, b])).toBeNull();
    expect(matchProductInText("my alpha pump", [a, b])).toBeNull();
  });

  it("equal-length overlapping mentions of different products are ambiguous", () => {
    const a = { id: "a", name: "big pump", aliases: [] };
    const b = { id: "b", name: "pump kit", aliases: [] };
    expect(matchProductInText("my big pump kit", [a, b])).toBeNull();
    // ...but a longer one still wins over both
    const c = { id: "c", name: "big pump kit", aliases: [] };
    expect(matchProductInText("my big pump kit", [a, b, c])).toBe("c");
  });

  it("a product's short mention outside a longer product's reach still counts", () => {
    // "q r" (A) loses to the overlapping "r ssss" (B), but A's "q" does not overlap B: both are named
    const a = { id: "a", name: "q r", aliases: ["q"] };
    const b = { id: "b", name: "r ssss", aliases: [] };
    expect(matchProductInText("q r ssss", [a, b])).toBeNull();
  });

  it("weighs by letters and digits, not by word count", () => {
    const manyWords = { id: "many", name: "a b c", aliases: [] };
    const longWords = { id: "long", name: "c defgh", aliases: [] };
    // overlapping on "c": 3 words of 3 characters lose to 2 words of 6
    expect(matchProductInText("a b c defgh", [manyWords, longWords])).toBe("long");
    expect(matchProductInText("a b c defgh", [longWords, manyWords])).toBe("long");
  });
});

describe("parseProductChoice", () => {
  const choices = [g30, g70, kettle];
  it.each([
    ["1", "g30"],
    ["2", "g70"],
    ["3", "kettle"],
    [" 2 ", "g70"],
    ["#2", "g70"],
    ["# 2", "g70"],
    ["2.", "g70"],
    ["2)", "g70"],
    ["2 .", "g70"],
    ["2. ", "g70"],
    [" #3)\n", "kettle"],
    ["２", "g70"],
    ["0", null],
    ["4", null],
    ["-1", null],
    ["1.5", null],
    ["12", null],
    ["2 please", null],
    ["##2", null],
    ["2..", null],
    ["the G70", "g70"],
    ["Grainfather G30", "g30"],
    ["kettle.", "kettle"],
    ["yes", null],
    ["", null],
    ["G30 or G70", null],
  ])("%j -> %j", (reply, expected) => {
    expect(parseProductChoice(reply, choices)).toBe(expected);
  });

  it("only the listed products can be picked by name", () => {
    expect(parseProductChoice("kettle", [g30, g70])).toBeNull();
  });

  it("numbers up to the list's length", () => {
    const many = Array.from({ length: 120 }, (_, index) => ({ id: `p${index}`, name: `Product ${index}`, aliases: [] }));
    expect(parseProductChoice("120", many)).toBe("p119");
    expect(parseProductChoice("#100.", many)).toBe("p99");
  });
});
