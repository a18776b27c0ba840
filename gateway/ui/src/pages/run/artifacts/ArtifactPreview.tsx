import { useState, type ReactNode } from 'react';
import { fetchBytes } from '../../../api/client';
import { AuthorizedImg, DownloadLink } from '../../../components/Authorized';
import { ErrorBox } from '../../../components/ErrorBox';
import { parseCsv } from '../../../util/csv';
import { plural } from '../../../util/plural';
import { useAsync } from '../../../util/useAsync';
import { jsonTable, looksLikeText, prettyJson, previewKindOf, type PreviewKind } from './previewKind';
import { readParquetPreview } from './parquet';
import type { ArtifactSource } from './source';

const MAX_PREVIEW_BYTES = 1024 * 1024;
const MAX_CSV_ROWS = 500;

interface Loaded {
  kind: Exclude<PreviewKind, 'image' | 'parquet'>;
  text: string;
  truncated: boolean;
}

async function load(url: string, path: string, signal: AbortSignal): Promise<Loaded> {
  const named = previewKindOf(path);
  if (named === 'binary' || named === 'image' || named === 'parquet') return { kind: 'binary', text: '', truncated: false };
  const { bytes, truncated } = await fetchBytes(url, MAX_PREVIEW_BYTES, signal);
  if (named === 'unknown' && !looksLikeText(bytes)) return { kind: 'binary', text: '', truncated };
  const text = new TextDecoder().decode(bytes);
  return { kind: named === 'unknown' ? 'text' : named, text, truncated };
}

function CsvTable({ text, separator }: { text: string; separator: string }): ReactNode {
  const rows = parseCsv(separator === ',' ? text : text.replaceAll(separator, ','), MAX_CSV_ROWS + 1);
  return <RowsTable rows={rows} />;
}

/**
 * HTML artifacts (estimator.html, plotly figures) render in an iframe with an opaque origin:
 * scripts may run for charts, but cannot reach this page, its cookies or the API.
 */
function HtmlPreview({ text }: { text: string }): ReactNode {
  const [source, setSource] = useState(false);
  return (
    <>
      <label className="check">
        <input type="checkbox" checked={source} onChange={(e) => setSource(e.target.checked)} /> show source
      </label>
      {source ? (
        <pre data-testid="text-preview">{text}</pre>
      ) : (
        <iframe className="html-preview" sandbox="allow-scripts" srcDoc={text} title="HTML artifact" data-testid="html-preview" />
      )}
    </>
  );
}

function RowsTable({ rows }: { rows: readonly (readonly string[])[] }): ReactNode {
  const [head, ...body] = rows;
  return (
    <div className="csv-scroll">
      <table className="grid" data-testid="csv-preview">
        <thead>
          <tr>{head?.map((cell, i) => <th key={i}>{cell}</th>)}</tr>
        </thead>
        <tbody>
          {body.slice(0, MAX_CSV_ROWS - 1).map((row, r) => (
            <tr key={r}>
              {row.map((cell, c) => (
                <td key={c}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Body({ loaded, path }: { loaded: Loaded; path: string }): ReactNode {
  switch (loaded.kind) {
    case 'binary':
      return <p className="muted">No preview for this file type.</p>;
    case 'csv':
      return <CsvTable text={loaded.text} separator={path.toLowerCase().endsWith('.tsv') ? '\t' : ','} />;
    case 'html':
      return <HtmlPreview text={loaded.text} />;
    case 'json': {
      const table = loaded.truncated ? undefined : jsonTable(loaded.text);
      if (table) return <RowsTable rows={table} />;
      return <pre data-testid="text-preview">{loaded.truncated ? loaded.text : prettyJson(loaded.text)}</pre>;
    }
    case 'text':
      return <pre data-testid="text-preview">{loaded.text}</pre>;
  }
}

function TextPreview({ url, path }: { url: string; path: string }): ReactNode {
  const { data, error } = useAsync(url, (signal) => load(url, path, signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p>Loading…</p>;
  return (
    <>
      {data.truncated && <p className="muted">Showing the first {MAX_PREVIEW_BYTES / 1024} KB.</p>}
      <Body loaded={data} path={path} />
    </>
  );
}

/** The first rows of a Parquet file as a table. */
function ParquetTable({ url }: { url: string }): ReactNode {
  const { data, error } = useAsync(`parquet:${url}`, (signal) => readParquetPreview(url, signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p>Loading…</p>;
  const shown = data.rows.length - 1;
  return (
    <>
      <p className="muted" data-testid="parquet-summary">
        {shown < data.totalRows ? `First ${shown} of ${plural(data.totalRows, 'row')}` : plural(data.totalRows, 'row')}
      </p>
      <RowsTable rows={data.rows} />
    </>
  );
}

/** Shows an artifact as text, a table (CSV, JSON, Parquet), an image, or HTML in a sandboxed iframe. */
export function ArtifactPreview({ source, path }: { source: ArtifactSource; path: string }): ReactNode {
  const url = source.fileUrl(path);
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (
    <div className="artifact-preview" data-testid="artifact-preview">
      <div className="toolbar">
        <strong>{path}</strong>
        <DownloadLink className="button" href={url} name={name} data-testid="download-link">
          Download
        </DownloadLink>
      </div>
      {previewKindOf(path) === 'image' ? (
        <AuthorizedImg src={url} alt={path} className="image-preview" data-testid="image-preview" />
      ) : previewKindOf(path) === 'parquet' ? (
        <ParquetTable url={url} />
      ) : (
        <TextPreview url={url} path={path} />
      )}
    </div>
  );
}
