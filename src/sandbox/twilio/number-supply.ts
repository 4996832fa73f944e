/**
 * The numbers the sandbox sells: NXX-555-0100 to NXX-555-0199 in each of many
 * US area codes. That block is reserved for fiction in every area code, so a
 * sandbox number can never ring a real person, and there are thousands of
 * them, enough for a proxy pool at scale.
 *
 * Availability is computed, not counted: any number in the range that is not
 * owned is for sale, whatever order earlier numbers were bought in.
 */

export interface AreaCode {
  code: string;
  locality: string;
  region: string;
}

/** 415 first: with no filter, the first number offered is +1 415 555 0100, as it always was. */
export const AREA_CODES: readonly AreaCode[] = [
  { code: "415", locality: "San Francisco", region: "CA" },
  { code: "212", locality: "New York", region: "NY" },
  { code: "312", locality: "Chicago", region: "IL" },
  { code: "213", locality: "Los Angeles", region: "CA" },
  { code: "206", locality: "Seattle", region: "WA" },
  { code: "617", locality: "Boston", region: "MA" },
  { code: "512", locality: "Austin", region: "TX" },
  { code: "303", locality: "Denver", region: "CO" },
  { code: "404", locality: "Atlanta", region: "GA" },
  { code: "305", locality: "Miami", region: "FL" },
  { code: "503", locality: "Portland", region: "OR" },
  { code: "602", locality: "Phoenix", region: "AZ" },
  { code: "612", locality: "Minneapolis", region: "MN" },
  { code: "615", locality: "Nashville", region: "TN" },
  { code: "702", locality: "Las Vegas", region: "NV" },
  { code: "713", locality: "Houston", region: "TX" },
  { code: "214", locality: "Dallas", region: "TX" },
  { code: "215", locality: "Philadelphia", region: "PA" },
  { code: "202", locality: "Washington", region: "DC" },
  { code: "313", locality: "Detroit", region: "MI" },
  { code: "314", locality: "St. Louis", region: "MO" },
  { code: "412", locality: "Pittsburgh", region: "PA" },
  { code: "414", locality: "Milwaukee", region: "WI" },
  { code: "416", locality: "Toronto", region: "ON" },
  { code: "504", locality: "New Orleans", region: "LA" },
  { code: "505", locality: "Albuquerque", region: "NM" },
  { code: "510", locality: "Oakland", region: "CA" },
  { code: "513", locality: "Cincinnati", region: "OH" },
  { code: "608", locality: "Madison", region: "WI" },
  { code: "614", locality: "Columbus", region: "OH" },
  { code: "619", locality: "San Diego", region: "CA" },
  { code: "646", locality: "New York", region: "NY" },
  { code: "650", locality: "San Mateo", region: "CA" },
  { code: "704", locality: "Charlotte", region: "NC" },
  { code: "716", locality: "Buffalo", region: "NY" },
  { code: "720", locality: "Denver", region: "CO" },
  { code: "801", locality: "Salt Lake City", region: "UT" },
  { code: "808", locality: "Honolulu", region: "HI" },
  { code: "813", locality: "Tampa", region: "FL" },
  { code: "816", locality: "Kansas City", region: "MO" },
  { code: "907", locality: "Anchorage", region: "AK" },
  { code: "916", locality: "Sacramento", region: "CA" },
  { code: "919", locality: "Raleigh", region: "NC" },
  { code: "971", locality: "Portland", region: "OR" },
  { code: "978", locality: "Lowell", region: "MA" },
  { code: "984", locality: "Raleigh", region: "NC" },
  { code: "989", locality: "Saginaw", region: "MI" },
  { code: "401", locality: "Providence", region: "RI" },
  { code: "402", locality: "Omaha", region: "NE" },
  { code: "406", locality: "Billings", region: "MT" },
  { code: "207", locality: "Portland", region: "ME" },
  { code: "208", locality: "Boise", region: "ID" },
  { code: "802", locality: "Burlington", region: "VT" },
  { code: "803", locality: "Columbia", region: "SC" },
  { code: "804", locality: "Richmond", region: "VA" },
  { code: "843", locality: "Charleston", region: "SC" },
  { code: "859", locality: "Lexington", region: "KY" },
  { code: "860", locality: "Hartford", region: "CT" },
  { code: "901", locality: "Memphis", region: "TN" },
  { code: "904", locality: "Jacksonville", region: "FL" },
];

const FIRST_LINE = 100;
const LAST_LINE = 199;
export const NUMBERS_PER_AREA_CODE = LAST_LINE - FIRST_LINE + 1;

const byCode = new Map(AREA_CODES.map((area) => [area.code, area]));

/** Phone keypad letters, as Twilio's Contains filter maps them ("*MEET*" finds ...6338...). */
const KEYPAD: Record<string, string> = Object.fromEntries(
  Object.entries({ "2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ" }).flatMap(
    ([digit, letters]) => [...letters].map((letter) => [letter, digit]),
  ),
);

export interface SupplyFilter {
  /** Three digits: only numbers in that area code. */
  areaCode?: string;
  /**
   * Twilio's Contains: digits, letters (keypad) and `*` (any one digit). It
   * matches anywhere in the national number, or in the whole E.164 number
   * when it starts with +.
   */
  contains?: string;
}

/** The range's number for an area code and line (100-199): "+1" + NPA + "555" + "0" + line. */
function numberOf(areaCode: string, line: number): string {
  return `+1${areaCode}5550${line}`;
}

/** The area code's details when the number is one the sandbox can sell, else undefined. */
export function supplyAreaOf(number: string): AreaCode | undefined {
  const match = /^\+1(\d{3})5550(\d{3})$/.exec(number);
  if (!match) return undefined;
  const line = Number(match[2]);
  if (line < FIRST_LINE || line > LAST_LINE) return undefined;
  return byCode.get(match[1] ?? "");
}

function containsPattern(contains: string): RegExp | null {
  const digits = [...contains.toUpperCase()].map((char) => (char === "*" ? "\\d" : KEYPAD[char] ?? char));
  if (!digits.every((part) => part === "\\d" || part === "+" || /^\d$/.test(part))) return null;
  const body = digits.map((part) => (part === "+" ? "\\+" : part)).join("");
  return new RegExp(body);
}

/**
 * Up to `count` numbers for sale, in a stable order (area codes as listed,
 * lines ascending), skipping every number `isTaken` says is in use.
 */
export function availableNumbers(count: number, filter: SupplyFilter, isTaken: (number: string) => boolean): string[] {
  const areas = filter.areaCode === undefined ? AREA_CODES : AREA_CODES.filter((area) => area.code === filter.areaCode);
  const pattern = filter.contains === undefined ? undefined : containsPattern(filter.contains);
  // A Contains with characters Twilio would refuse matches nothing here.
  if (pattern === null) return [];
  const found: string[] = [];
  for (const area of areas) {
    for (let line = FIRST_LINE; line <= LAST_LINE && found.length < count; line++) {
      const number = numberOf(area.code, line);
      if (isTaken(number)) continue;
      if (pattern && !pattern.test(filter.contains?.startsWith("+") ? number : number.slice(2))) continue;
      found.push(number);
    }
    if (found.length >= count) break;
  }
  return found;
}
