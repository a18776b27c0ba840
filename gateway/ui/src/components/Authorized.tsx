// <img> and download links cannot send an Authorization header. While the UI holds a session
// token, their files are fetched with it and shown from blob: URLs; otherwise the plain URL is used.
import { useEffect, useState, type ImgHTMLAttributes, type ReactNode } from 'react';
import { authorizedFetch, errorFrom, hasAuthorization } from '../api/client';

function useObjectUrl(url: string): string | undefined {
  const direct = !hasAuthorization();
  const [blob, setBlob] = useState<{ url: string; objectUrl: string } | undefined>(undefined);
  useEffect(() => {
    if (direct) return undefined;
    const controller = new AbortController();
    let objectUrl: string | undefined;
    authorizedFetch(url, { signal: controller.signal })
      .then((response) => (response.ok ? response.blob() : Promise.reject(new Error(String(response.status)))))
      .then((data) => {
        objectUrl = URL.createObjectURL(data);
        setBlob({ url, objectUrl });
      })
      .catch(() => undefined);
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url, direct]);
  if (direct) return url;
  return blob?.url === url ? blob.objectUrl : undefined;
}

/** An image from the API, with the session's credential when there is one. */
export function AuthorizedImg({ src, alt, ...rest }: ImgHTMLAttributes<HTMLImageElement> & { src: string }): ReactNode {
  const url = useObjectUrl(src);
  return url ? <img src={url} alt={alt} {...rest} /> : <span className="muted">loading image…</span>;
}

interface LinkProps {
  href: string;
  /** The saved file's name; absent: the file opens in a new tab instead. */
  name?: string;
  children: ReactNode;
  className?: string;
  'data-testid'?: string;
}

/** A download (or new-tab view) of an API file; with a session token it is fetched first. */
export function DownloadLink({ href, name, children, ...rest }: LinkProps): ReactNode {
  const [error, setError] = useState<string | undefined>(undefined);
  if (!hasAuthorization()) {
    return name === undefined ? (
      <a href={href} target="_blank" rel="noreferrer" {...rest}>
        {children}
      </a>
    ) : (
      <a href={href} download={name} {...rest}>
        {children}
      </a>
    );
  }
  const save = async (): Promise<void> => {
    const response = await authorizedFetch(href);
    if (!response.ok) throw await errorFrom(response);
    const objectUrl = URL.createObjectURL(await response.blob());
    if (name === undefined) {
      window.open(objectUrl, '_blank', 'noreferrer');
    } else {
      const link = document.createElement('a');
      link.href = objectUrl;
      link.download = name;
      link.click();
    }
    window.setTimeout(() => URL.revokeObjectURL(objectUrl), 60_000);
  };
  return (
    <>
      <a
        href={href}
        {...rest}
        onClick={(e) => {
          e.preventDefault();
          setError(undefined);
          save().catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
        }}
      >
        {children}
      </a>
      {error && <span className="error">{error}</span>}
    </>
  );
}
