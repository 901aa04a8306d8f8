import { DEFAULT_CONCURRENCY, DEFAULT_GATEWAY_URL, parseCommandLine, UsageError, type Command } from './args';

function analyze(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const command: Command = parseCommandLine(argv, env);
  if (command.command !== 'analyze') throw new Error(`expected analyze, got ${command.command}`);
  return command;
}

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv, {});
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no UsageError for ${argv.join(' ')}`);
}

describe('parseCommandLine', () => {
  it('reads every flag of analyze', () => {
    expect(
      analyze([
        'analyze',
        'photos',
        'one.jpg',
        '--tasks',
        'moderation, ocr,moderation',
        '--tier=small',
        '--policy',
        'marketplace',
        '--profile',
        'amazon',
        '--gateway',
        'http://10.0.0.5:9000/',
        '--out',
        'out/Report.CSV',
        '--concurrency',
        '8',
      ]),
    ).toEqual({
      command: 'analyze',
      paths: ['photos', 'one.jpg'],
      tasks: ['moderation', 'ocr'],
      tier: 'small',
      policy: 'marketplace',
      profile: 'amazon',
      gatewayUrl: 'http://10.0.0.5:9000',
      out: { path: 'out/Report.CSV', format: 'csv' },
      concurrency: 8,
    });
  });

  it('defaults: every task (left to the gateway), no report, the default gateway and concurrency', () => {
    const options = analyze(['analyze', '.']);
    expect(options).toEqual({
      command: 'analyze',
      paths: ['.'],
      gatewayUrl: DEFAULT_GATEWAY_URL,
      concurrency: DEFAULT_CONCURRENCY,
    });
    expect(DEFAULT_GATEWAY_URL).toBe('http://127.0.0.1:8080');
  });

  it('takes the gateway from ARGUS_GATEWAY_URL unless --gateway is given', () => {
    const env = { ARGUS_GATEWAY_URL: 'https://argus.internal' };
    expect(analyze(['analyze', 'x'], env).gatewayUrl).toBe('https://argus.internal');
    expect(analyze(['analyze', 'x', '--gateway', 'http://127.0.0.1:1234'], env).gatewayUrl).toBe(
      'http://127.0.0.1:1234',
    );
    expect(analyze(['analyze', 'x'], { ARGUS_GATEWAY_URL: '' }).gatewayUrl).toBe(DEFAULT_GATEWAY_URL);
  });

  it('accepts -o and a .json report', () => {
    expect(analyze(['analyze', 'x', '-o', 'r.json']).out).toEqual({ path: 'r.json', format: 'json' });
  });

  it('answers help for --help and -h, even after the command', () => {
    expect(parseCommandLine(['--help'])).toEqual({ command: 'help' });
    expect(parseCommandLine(['analyze', '-h'])).toEqual({ command: 'help' });
  });

  it.each([
    [['analyze', 'x', '--frobnicate'], 'unknown flag --frobnicate; see --help'],
    [['analyze', 'x', '-z'], 'unknown flag -z; see --help'],
    [['analyze', 'x', '--tier'], '--tier needs a value'],
    [[], 'missing command; try `argus analyze <folder>`'],
    [['scan', 'x'], 'unknown command "scan"; the commands are analyze and keys'],
    [['analyze'], 'name at least one file or folder of images to analyze'],
    [
      ['analyze', 'x', '--tasks', 'moderation,faces'],
      'unknown task "faces"; choose from moderation, tagging, ocr, describe',
    ],
    [['analyze', 'x', '--tasks', ' , '], '--tasks needs one or more of moderation, tagging, ocr, describe'],
    [['analyze', 'x', '--tier', 'huge'], 'unknown tier "huge"; choose from auto, cpu, small, medium, large'],
    [['analyze', 'x', '--out', 'report.txt'], '--out must end in .json or .csv; got "report.txt"'],
    [['analyze', 'x', '--out', 'report'], '--out must end in .json or .csv; got "report"'],
    [['analyze', 'x', '--concurrency', '0'], '--concurrency must be a whole number from 1 to 64; got "0"'],
    [
      ['analyze', 'x', '--concurrency', '2.5'],
      '--concurrency must be a whole number from 1 to 64; got "2.5"',
    ],
    [['analyze', 'x', '--concurrency', '65'], '--concurrency must be a whole number from 1 to 64; got "65"'],
    [['analyze', 'x', '--policy', '  '], '--policy needs a value'],
  ])('%j is a usage error', (argv, message) => {
    expect(usageError(argv)).toBe(message);
  });

  it('refuses a gateway that is not an http(s) URL', () => {
    expect(usageError(['analyze', 'x', '--gateway', 'localhost:8080'])).toMatch(
      /--gateway must be an http\(s\) URL/,
    );
    expect(usageError(['analyze', 'x', '--gateway', 'ftp://host'])).toMatch(
      /--gateway must be an http\(s\) URL/,
    );
  });

  it('takes the API key from --api-key, else ARGUS_API_KEY, and leaves it out when neither is set', () => {
    expect(analyze(['analyze', 'x']).apiKey).toBeUndefined();
    expect(analyze(['analyze', 'x'], { ARGUS_API_KEY: '' }).apiKey).toBeUndefined();
    expect(analyze(['analyze', 'x'], { ARGUS_API_KEY: ' argus_env \n' }).apiKey).toBe('argus_env');
    expect(analyze(['analyze', 'x', '--api-key', 'argus_flag'], { ARGUS_API_KEY: 'argus_env' }).apiKey).toBe(
      'argus_flag',
    );
    expect(analyze(['analyze', 'x', '--api-key=argus_eq']).apiKey).toBe('argus_eq');
  });

  it('refuses an unusable API key without echoing it', () => {
    expect(usageError(['analyze', 'x', '--api-key', ''])).toBe('--api-key needs a value');
    expect(usageError(['analyze', 'x', '--api-key'])).toBe('--api-key needs a value');
    const message = usageError(['analyze', 'x', '--api-key', 'secret part']);
    expect(message).toMatch(/^--api-key must be one word/);
    expect(message).not.toContain('secret');
    expect(() => parseCommandLine(['analyze', 'x'], { ARGUS_API_KEY: 'sec\u00e9ret' })).toThrow(
      /^\$ARGUS_API_KEY must be one word/,
    );
  });
});

describe('parseCommandLine: keys', () => {
  it('reads keys create with its defaults', () => {
    expect(parseCommandLine(['keys', 'create', '--tenant', 'acme'])).toEqual({
      command: 'keys-create',
      tenant: 'acme',
      scopes: ['analyze', 'jobs'],
      json: false,
    });
  });

  it('reads every flag of keys create', () => {
    expect(
      parseCommandLine([
        'keys',
        'create',
        '--tenant=acme.eu',
        '--id',
        'acme-ci_1',
        '--policy',
        'strict',
        '--scopes',
        'jobs, reviews,jobs',
        '--requests',
        '100',
        '--per-seconds',
        '10',
        '--json',
      ]),
    ).toEqual({
      command: 'keys-create',
      tenant: 'acme.eu',
      id: 'acme-ci_1',
      policy: 'strict',
      scopes: ['jobs', 'reviews'],
      rateLimit: { requests: 100, perSeconds: 10 },
      json: true,
    });
  });

  it('gives a rate limit 60-second windows unless --per-seconds says otherwise', () => {
    expect(parseCommandLine(['keys', 'create', '--tenant', 't', '--requests', '5'])).toMatchObject({
      rateLimit: { requests: 5, perSeconds: 60 },
    });
  });

  it('reads keys hash with a key or - for stdin', () => {
    expect(parseCommandLine(['keys', 'hash', 'argus_abc'])).toEqual({
      command: 'keys-hash',
      key: 'argus_abc',
    });
    expect(parseCommandLine(['keys', 'hash', '-'])).toEqual({ command: 'keys-hash', key: '-' });
  });

  it.each([
    [['keys'], 'keys needs a subcommand: create or hash'],
    [['keys', 'list'], 'unknown subcommand "keys list"; use keys create or keys hash'],
    [['keys', 'create'], 'keys create needs --tenant <tenant>'],
    [['keys', 'create', 'acme'], 'keys create takes no arguments; got "acme"'],
    [['keys', 'create', '--tenant', 'a b'], '--tenant must be 1 to 64 of A-Z a-z 0-9 . _ -; got "a b"'],
    [
      ['keys', 'create', '--tenant', 'x'.repeat(65)],
      `--tenant must be 1 to 64 of A-Z a-z 0-9 . _ -; got "${'x'.repeat(65)}"`,
    ],
    [
      ['keys', 'create', '--tenant', 't', '--id', 'a/b'],
      '--id must be 1 to 64 of A-Z a-z 0-9 . _ -; got "a/b"',
    ],
    [
      ['keys', 'create', '--tenant', 't', '--scopes', 'jobs,admin'],
      'unknown scope "admin"; choose from analyze, jobs, reviews, ops',
    ],
    [
      ['keys', 'create', '--tenant', 't', '--scopes', ','],
      '--scopes needs one or more of analyze, jobs, reviews, ops',
    ],
    [
      ['keys', 'create', '--tenant', 't', '--requests', '0'],
      '--requests must be a whole number of 1 or more; got "0"',
    ],
    [
      ['keys', 'create', '--tenant', 't', '--requests', '5', '--per-seconds', '1.5'],
      '--per-seconds must be a whole number of 1 or more; got "1.5"',
    ],
    [['keys', 'create', '--tenant', 't', '--per-seconds', '5'], '--per-seconds needs --requests'],
    [
      ['keys', 'create', '--tenant', 't', '--out', 'x.json'],
      '--out is not an option of keys create; see --help',
    ],
    [['keys', 'hash'], 'keys hash takes one key, or - to read it from stdin'],
    [['keys', 'hash', 'a', 'b'], 'keys hash takes one key, or - to read it from stdin'],
    [['keys', 'hash', 'k', '--json'], '--json is not an option of keys hash; see --help'],
    [['analyze', 'x', '--tenant', 't'], '--tenant is not an option of analyze; see --help'],
  ])('%j is a usage error', (argv, message) => {
    expect(usageError(argv)).toBe(message);
  });
});
