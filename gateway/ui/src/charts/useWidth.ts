import { useLayoutEffect, useRef, useState, type RefObject } from 'react';

/**
 * The CSS width of an element, following resizes; undefined until it is laid out. Read one
 * animation frame after the last resize, so a width the page only passes through while it
 * mounts (a grid before its neighbours render) is never reported: each width starts a fetch.
 */
export function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number | undefined] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState<number | undefined>(undefined);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return undefined;
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (element.clientWidth > 0) setWidth(element.clientWidth);
      });
    });
    observer.observe(element);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
    };
  }, []);
  return [ref, width];
}
