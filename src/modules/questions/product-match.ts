/**
 * Which product a customer's text is about, for SMS intake: a shop with
 * several products needs the product to route the question, and customers
 * name products the way they speak ("my G30's pump", "the grainfather").
 * Pure functions: the caller loads the shop's products.
 */

export interface NamedProduct {
  id: string;
  name: string;
  aliases: readonly string[];
}

/**
 * Words compared case- and accent-free ("Café" = "cafe"), with punctuation
 * as a word break, so "G30's" holds the word "g30" and "Grain-father" is
 * "grain father". Letters and digits of any script survive.
 */
export function wordsOf(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

interface Phrase {
  productId: string;
  words: string[];
  /** Letters and digits in the phrase: the longer, the more specific. */
  weight: number;
}

interface Mention {
  productId: string;
  start: number;
  end: number;
  weight: number;
}

function phrasesOf(products: readonly NamedProduct[]): Map<string, Phrase[]> {
  const byFirstWord = new Map<string, Phrase[]>();
  for (const product of products) {
    for (const label of [product.name, ...product.aliases]) {
      const words = wordsOf(label);
      const first = words[0];
      if (first === undefined) continue;
      const phrase = { productId: product.id, words, weight: words.join("").length };
      byFirstWord.set(first, [...(byFirstWord.get(first) ?? []), phrase]);
    }
  }
  return byFirstWord;
}

function mentionsIn(words: readonly string[], byFirstWord: Map<string, Phrase[]>): Mention[] {
  const mentions: Mention[] = [];
  words.forEach((word, start) => {
    for (const phrase of byFirstWord.get(word) ?? []) {
      if (phrase.words.every((expected, offset) => words[start + offset] === expected)) {
        mentions.push({ productId: phrase.productId, start, end: start + phrase.words.length, weight: phrase.weight });
      }
    }
  });
  return mentions;
}

const overlaps = (a: Mention, b: Mention) => a.start < b.end && b.start < a.end;

/**
 * The product the text names, or null when it names none or is ambiguous.
 *
 * Where mentions of different products overlap, the longer one wins:
 * "Grainfather G30" beats "Grainfather" in "my grainfather g30 leaks".
 * Mentions that do not overlap are separate products named in one text
 * ("my G30 or the old kettle?"), and so is an equal overlap: the customer is
 * asked rather than guessed at, since a wrong product routes the question
 * to the wrong experts.
 */
export function matchProductInText(text: string, products: readonly NamedProduct[]): string | null {
  const mentions = mentionsIn(wordsOf(text), phrasesOf(products));
  const standing = mentions.filter(
    (mention) =>
      !mentions.some((other) => other.productId !== mention.productId && overlaps(other, mention) && other.weight > mention.weight),
  );
  const productIds = new Set(standing.map((mention) => mention.productId));
  const [only] = productIds;
  return productIds.size === 1 ? (only ?? null) : null;
}

/** "2", "#2", "2.", "2)", with spaces around; full-width digits too (NFKC). */
const CHOICE_NUMBER = /^#?\s*(\d{1,3})\s*[.)]?$/;

/**
 * The reply to "Which product? 1 Grainfather G30, 2 ...": a number of the
 * list or the name or alias of one of the listed products; null otherwise
 * (the caller asks again or falls back).
 */
export function parseProductChoice(reply: string, choices: readonly NamedProduct[]): string | null {
  const number = CHOICE_NUMBER.exec(reply.normalize("NFKC").trim());
  if (number) return choices[Number(number[1]) - 1]?.id ?? null;
  return matchProductInText(reply, choices);
}
