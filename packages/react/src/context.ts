import { createClient, type ClientOptions, type HeraldClient } from '@herald/client';
import { createContext, createElement, useContext, useEffect, useState, type ReactNode } from 'react';

const HeraldContext = createContext<HeraldClient | undefined>(undefined);

/** Props of {@link HeraldProvider}: an existing client, or the URL (and options) of one to create. */
export type HeraldProviderProps = { client: HeraldClient; children?: ReactNode } | { url: string; options?: Omit<ClientOptions, 'url'>; children?: ReactNode };

/**
 * Makes a Herald client available to the hooks below it. With `client`, the app
 * owns the client (and closes it). With `url`, the provider creates the client
 * after mounting and closes it on unmount or when `url` changes (other options
 * are read once, when the client is created). Creating it in an effect, not
 * during render, is what keeps StrictMode's mount-unmount-mount from leaking a
 * connection: the first client is closed before it ever connects.
 */
export function HeraldProvider(props: HeraldProviderProps): ReactNode {
  const given = 'client' in props ? props.client : undefined;
  const url = 'url' in props ? props.url : undefined;
  const [owned, setOwned] = useState<HeraldClient | undefined>(undefined);
  const options = 'options' in props ? props.options : undefined;
  useEffect(() => {
    if (url === undefined) return undefined;
    const client = createClient({ ...options, url });
    setOwned(client);
    return () => {
      client.close();
      setOwned(undefined);
    };
    // Options are read when the client is created; only a new URL makes a new client.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [url]);
  // createElement rather than JSX: the sources then compile the same under any JSX setting (tsc, tsx, bundlers).
  return createElement(HeraldContext.Provider, { value: given ?? owned }, props.children);
}

/** The client from the nearest {@link HeraldProvider}; undefined until a `url` provider has created it. */
export function useHeraldClient(): HeraldClient | undefined {
  return useContext(HeraldContext);
}
