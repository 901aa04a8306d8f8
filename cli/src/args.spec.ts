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
    [['scan', 'x'], 'unknown command "scan"; the command is analyze'],
    [['analyze'], 'name at least one file or folder of images to analyze'],
    [
      ['analyze', 'x', '--tasks', 'moderation,faces'],
      'unknown task "faces"; choose from moderation, tagging, ocr',
    ],
    [['analyze', 'x', '--tasks', ' , '], '--tasks needs one or more of moderation, tagging, ocr'],
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
});
