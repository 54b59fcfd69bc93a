import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/** A table as columns: each value a number, a string, or null when empty. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: number;
  readonly values: ReadonlyArray<ReadonlyArray<number | string | null>>;
}

export class TableFormatError extends Error {
  override readonly name = 'TableFormatError';
}

/** RFC 4180 CSV: a header row, commas, double-quoted fields with "" escapes, \n or \r\n. */
export const readCsv = (text: string): Table => {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += c;
  }
  if (quoted) throw new TableFormatError('the CSV ends inside a quoted field');
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const header = records[0];
  if (!header) throw new TableFormatError('the CSV is empty: it needs a header row');
  const columns = header.map((h) => h.trim());
  const values = columns.map(() => [] as Array<number | string | null>);
  for (let r = 1; r < records.length; r += 1) {
    const row = records[r] as string[];
    if (row.length !== columns.length) {
      throw new TableFormatError(`CSV line ${r + 1} has ${row.length} fields; the header has ${columns.length}`);
    }
    row.forEach((raw, c) => {
      const text = raw.trim();
      const n = text === '' ? NaN : Number(text);
      (values[c] as Array<number | string | null>).push(text === '' ? null : Number.isNaN(n) && text.toLowerCase() !== 'nan' ? text : n);
    });
  }
  return { columns, rows: records.length - 1, values };
};

/** Parquet (any codec hyparquet-compressors reads, ZSTD and Snappy included). */
export const readParquet = async (bytes: Uint8Array): Promise<Table> => {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Array<Record<string, unknown>>;
  try {
    rows = (await parquetReadObjects({ file, compressors })) as Array<Record<string, unknown>>;
  } catch (error) {
    throw new TableFormatError(`not a readable Parquet file: ${error instanceof Error ? error.message : String(error)}`);
  }
  const first = rows[0];
  if (!first) throw new TableFormatError('the Parquet file has no rows');
  const columns = Object.keys(first);
  const values = columns.map((column) =>
    rows.map((row) => {
      const v = row[column];
      if (v === null || v === undefined) return null;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'number' || typeof v === 'string') return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      return String(v);
    }),
  );
  return { columns, rows: rows.length, values };
};

/** Reads CSV or Parquet, told apart by Parquet's `PAR1` magic bytes. */
export const readTable = async (bytes: Uint8Array): Promise<Table> => {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  return magic === 'PAR1' ? readParquet(bytes) : readCsv(new TextDecoder('utf-8', { fatal: false }).decode(bytes));
};
