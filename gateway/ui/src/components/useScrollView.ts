import { useEffect, useState, type RefObject } from 'react';

/** The scroll offset and height of a scroll box, for virtual lists. The height comes from a
 * ResizeObserver, so a scroll event only reads scrollTop (no layout per scroll). */
export function useScrollView(box: RefObject<HTMLElement | null>): { top: number; height: number } {
  const [view, setView] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    let height = element.clientHeight;
    const onScroll = (): void => setView({ top: element.scrollTop, height });
    const observer = new ResizeObserver(([entry]) => {
      height = entry?.contentRect.height ?? height;
      onScroll();
    });
    observer.observe(element);
    element.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      observer.disconnect();
      element.removeEventListener('scroll', onScroll);
    };
  }, [box]);
  return view;
}
