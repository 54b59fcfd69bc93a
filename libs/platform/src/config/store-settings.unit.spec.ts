import { ConfigError, loadConfig } from './config';

describe('event store settings', () => {
  it('defaults to the SQLite store', () => {
    const config = loadConfig({});
    expect(config.store).toBe('sqlite');
    expect(config.postgresUrl).toBeUndefined();
  });

  it('reads MRW_STORE=postgres with its MRW_POSTGRES_URL', () => {
    const config = loadConfig({ MRW_STORE: 'postgres', MRW_POSTGRES_URL: ' postgres://mrw:secret@db.internal:5432/mrw ' });
    expect(config.store).toBe('postgres');
    expect(config.postgresUrl).toBe('postgres://mrw:secret@db.internal:5432/mrw');
  });

  it('puts the PostgreSQL store in schema mrw unless MRW_POSTGRES_SCHEMA names another', () => {
    const url = 'postgres://mrw@db.internal:5432/mrw';
    expect(loadConfig({ MRW_STORE: 'postgres', MRW_POSTGRES_URL: url }).postgresSchema).toBe('mrw');
    expect(loadConfig({ MRW_STORE: 'postgres', MRW_POSTGRES_URL: url, MRW_POSTGRES_SCHEMA: ' team_a ' }).postgresSchema).toBe('team_a');
    expect(loadConfig({ MRW_STORE: 'postgres', MRW_POSTGRES_URL: url, MRW_POSTGRES_SCHEMA: '' }).postgresSchema).toBe('mrw');
  });

  it.each(['Team', 'a-b', '1abc', 'x'.repeat(49), 'mrw; DROP TABLE events'])('refuses MRW_POSTGRES_SCHEMA=%j at start', (schema) => {
    const env = { MRW_STORE: 'postgres', MRW_POSTGRES_URL: 'postgres://mrw@db:5432/mrw', MRW_POSTGRES_SCHEMA: schema };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/MRW_POSTGRES_SCHEMA=.* is not a usable schema name/);
  });

  it.each([
    [{ MRW_STORE: 'postgres' }, /MRW_STORE=postgres needs MRW_POSTGRES_URL/],
    [{ MRW_STORE: 'postgres', MRW_POSTGRES_URL: '  ' }, /MRW_STORE=postgres needs MRW_POSTGRES_URL/],
    [{ MRW_STORE: 'eventstoredb' }, /MRW_STORE=eventstoredb needs EVENTSTOREDB_URL/],
    [{ MRW_STORE: 'mysql' }, /MRW_STORE=mysql is not one of sqlite, eventstoredb, postgres/],
  ])('refuses %j at start with what to fix', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('serving processes (MRW_SERVING_PROCESSES)', () => {
  it('is one process unless asked for more', () => {
    expect(loadConfig({}).servingProcesses).toBe(1);
    expect(loadConfig({ MRW_SERVING_PROCESSES: '2' }).servingProcesses).toBe(2);
  });

  it.each([
    [{ MRW_SERVING_PROCESSES: '0' }, /MRW_SERVING_PROCESSES=0 is not a positive whole number of processes/],
    [{ MRW_SERVING_PROCESSES: 'two' }, /MRW_SERVING_PROCESSES=two is not a positive whole number/],
    [{ MRW_SERVING_PROCESSES: '17' }, /MRW_SERVING_PROCESSES=17: at most 16/],
    [{ MRW_SERVING_PROCESSES: '2', MRW_STORE: 'postgres', MRW_POSTGRES_URL: 'postgres://mrw@db:5432/mrw' }, /applies to the embedded suite .* registry replicas/],
    [{ MRW_SERVING_PROCESSES: '2', MRW_BUS: 'kafka', MRW_SECRET_KEY: 'k'.repeat(32) }, /applies to the embedded suite/],
  ])('refuses %j at start with what to do instead', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
