import { COLOUR_PALETTE } from '@argus/imaging';

/**
 * Palette names grouped the way a shopper would call them "the same colour": a listing that says "blue" is right
 * about a measured navy, one that says "off-white" about a measured cream. A name may sit in two families (coral is
 * both a red and an orange); two names match when they share any family.
 */
export const COLOUR_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  black: ['black', 'charcoal'],
  grey: ['charcoal', 'grey', 'silver'],
  white: ['white', 'cream', 'silver'],
  brown: ['cream', 'beige', 'tan', 'khaki', 'brown'],
  red: ['maroon', 'red', 'coral'],
  pink: ['pink', 'magenta', 'coral'],
  orange: ['coral', 'orange', 'gold'],
  yellow: ['gold', 'yellow'],
  green: ['olive', 'khaki', 'green', 'dark green', 'lime', 'mint', 'teal'],
  blue: ['teal', 'turquoise', 'sky blue', 'denim', 'blue', 'navy'],
  purple: ['purple', 'lavender', 'magenta'],
};

/** Words and phrases used in listings, mapped onto palette names; spelling is normalised first (gray → grey). */
const COLOUR_WORDS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(COLOUR_PALETTE.map(({ name }) => [name, name])),
  jet: 'black',
  ebony: 'black',
  onyx: 'black',
  anthracite: 'charcoal',
  graphite: 'charcoal',
  slate: 'charcoal',
  'dark grey': 'charcoal',
  ash: 'grey',
  gunmetal: 'grey',
  'light grey': 'silver',
  platinum: 'silver',
  chrome: 'silver',
  snow: 'white',
  'off white': 'cream',
  ivory: 'cream',
  creme: 'cream',
  eggshell: 'cream',
  ecru: 'cream',
  vanilla: 'cream',
  bone: 'cream',
  sand: 'beige',
  nude: 'beige',
  stone: 'beige',
  taupe: 'beige',
  oatmeal: 'beige',
  champagne: 'beige',
  camel: 'tan',
  caramel: 'tan',
  cognac: 'tan',
  chocolate: 'brown',
  coffee: 'brown',
  mocha: 'brown',
  espresso: 'brown',
  walnut: 'brown',
  chestnut: 'brown',
  bronze: 'brown',
  burgundy: 'maroon',
  wine: 'maroon',
  bordeaux: 'maroon',
  oxblood: 'maroon',
  claret: 'maroon',
  scarlet: 'red',
  crimson: 'red',
  cherry: 'red',
  ruby: 'red',
  brick: 'red',
  salmon: 'coral',
  peach: 'coral',
  rust: 'orange',
  copper: 'orange',
  amber: 'orange',
  terracotta: 'orange',
  golden: 'gold',
  mustard: 'gold',
  lemon: 'yellow',
  army: 'olive',
  emerald: 'green',
  sage: 'mint',
  pistachio: 'mint',
  'forest green': 'dark green',
  'bottle green': 'dark green',
  'hunter green': 'dark green',
  chartreuse: 'lime',
  'neon green': 'lime',
  petrol: 'teal',
  aqua: 'turquoise',
  aquamarine: 'turquoise',
  cyan: 'turquoise',
  'light blue': 'sky blue',
  'baby blue': 'sky blue',
  'powder blue': 'sky blue',
  indigo: 'denim',
  'steel blue': 'denim',
  'royal blue': 'blue',
  cobalt: 'blue',
  azure: 'blue',
  'navy blue': 'navy',
  'midnight blue': 'navy',
  'dark blue': 'navy',
  marine: 'navy',
  violet: 'purple',
  plum: 'purple',
  aubergine: 'purple',
  grape: 'purple',
  lilac: 'lavender',
  mauve: 'lavender',
  fuchsia: 'magenta',
  'hot pink': 'magenta',
  rose: 'pink',
  blush: 'pink',
};

const LONGEST_PHRASE = Math.max(...Object.keys(COLOUR_WORDS).map((phrase) => phrase.split(' ').length));

function normalise(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[-_.]/g, ' ')
    .replace(/\bgr[ae]y(ish)?\b/g, 'grey')
    .replace(/\bcolou?rs?\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The palette names a listing's colour text denotes: "Navy Blue" → navy, "Off-White" → cream, "grey/gray" → grey,
 * "burgundy" → maroon. Several colours ("black/white", "red and blue") give several names. Modifiers the palette
 * has no word for ("heather", "matte") are skipped; a part with no colour word at all is returned as unrecognised.
 */
export function colourWordsToPalette(text: string): { names: string[]; unrecognised: string[] } {
  const names = new Set<string>();
  const unrecognised: string[] = [];
  const parts = normalise(text)
    .split(/\s*(?:[/,&+|;]|\band\b|\bor\b|\bwith\b)\s*/)
    .map((part) => part.trim())
    .filter(Boolean);
  for (const part of parts) {
    const tokens = part.split(' ');
    let found = false;
    // Longest phrase first, so "navy blue" is navy rather than navy and blue.
    for (let start = 0; start < tokens.length;) {
      let matched = 0;
      for (let length = Math.min(LONGEST_PHRASE, tokens.length - start); length > 0; length -= 1) {
        const name = COLOUR_WORDS[tokens.slice(start, start + length).join(' ')];
        if (name) {
          names.add(name);
          matched = length;
          break;
        }
      }
      found ||= matched > 0;
      start += Math.max(1, matched);
    }
    if (!found) unrecognised.push(part);
  }
  return { names: [...names], unrecognised };
}

/** The families a palette name belongs to (empty for a word outside the palette). */
export function colourFamiliesOf(name: string): string[] {
  return Object.entries(COLOUR_FAMILIES)
    .filter(([, members]) => members.includes(name))
    .map(([family]) => family);
}

/** Two palette names are the same colour to a shopper when they are equal or share a family. */
export function sameColourFamily(a: string, b: string): boolean {
  if (a === b) return true;
  const families = colourFamiliesOf(a);
  return colourFamiliesOf(b).some((family) => families.includes(family));
}
