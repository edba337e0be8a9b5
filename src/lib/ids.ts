/** Random bytes from Web Crypto (global, initialised on first use: importing lib stays cheap). */
function randomBytes(n: number): Buffer {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(n)));
}

/** A 64-hex identifier (container, exec, network, volume). Never all digits: Docker avoids IDs that look like numbers. */
export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}/.test(id)) return id;
  }
}

export function shortId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice(7) : id;
  return hex.slice(0, 12);
}

const left = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful', 'bold',
  'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent', 'condescending', 'confident', 'cool',
  'cranky', 'crazy', 'dazzling', 'determined', 'distracted', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elated',
  'elegant', 'eloquent', 'epic', 'exciting', 'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty',
  'funny', 'gallant', 'gifted', 'goofy', 'gracious', 'great', 'happy', 'hardcore', 'heuristic', 'hopeful',
  'hungry', 'infallible', 'inspiring', 'intelligent', 'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing',
  'loving', 'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty',
  'nostalgic', 'objective', 'optimistic', 'peaceful', 'pedantic', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical',
  'recursing', 'relaxed', 'reverent', 'romantic', 'sad', 'serene', 'sharp', 'silly', 'sleepy', 'stoic',
  'strange', 'stupefied', 'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'unruffled', 'upbeat', 'vibrant',
  'vigilant', 'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];
const right = [
  'albattani', 'allen', 'archimedes', 'ardinghelli', 'babbage', 'banach', 'bardeen', 'bartik', 'bassi', 'bell',
  'benz', 'bhabha', 'black', 'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain',
  'brown', 'carson', 'chandrasekhar', 'chatelet', 'chaum', 'cohen', 'colden', 'cori', 'cray', 'curie',
  'darwin', 'davinci', 'dijkstra', 'dirac', 'easley', 'einstein', 'elgamal', 'elion', 'engelbart', 'euclid',
  'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gates', 'goldberg', 'goldstine',
  'goldwasser', 'goodall', 'hamilton', 'haslett', 'hawking', 'heisenberg', 'hermann', 'hertz', 'hodgkin', 'hofstadter',
  'hoover', 'hopper', 'hugle', 'hypatia', 'jackson', 'jang', 'jennings', 'johnson', 'joliot', 'kalam',
  'kapitsa', 'keldysh', 'keller', 'kepler', 'khorana', 'kilby', 'knuth', 'kowalevski', 'lalande', 'lamarr',
  'lamport', 'leakey', 'leavitt', 'lewin', 'lichterman', 'liskov', 'lovelace', 'lumiere', 'mahavira', 'margulis',
  'mayer', 'mccarthy', 'mcclintock', 'meitner', 'mendel', 'merkle', 'minsky', 'mirzakhani', 'montalcini', 'moore',
  'morse', 'napier', 'nash', 'newton', 'nightingale', 'nobel', 'noether', 'noyce', 'pare', 'pascal',
  'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ptolemy', 'raman', 'ramanujan', 'ride', 'ritchie',
  'rosalind', 'saha', 'sammet', 'shamir', 'shannon', 'shaw', 'shockley', 'sinoussi', 'snyder', 'spence',
  'stonebraker', 'sutherland', 'swanson', 'swirles', 'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira', 'visvesvaraya',
  'volhard', 'wescoff', 'wiles', 'williams', 'wilson', 'wing', 'wozniak', 'wright', 'wu', 'yalow', 'yonath',
];

/** A random `adjective_surname` container name, as Docker's names generator gives. */
export function randomName(retry = 0): string {
  const pick = <T>(a: readonly T[]): T => a[randomBytes(2).readUInt16BE() % a.length]!;
  const name = `${pick(left)}_${pick(right)}`;
  return retry > 0 ? `${name}${randomBytes(1)[0]! % 10}` : name;
}
