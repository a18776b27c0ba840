import { useEffect, useRef, useState, type ReactNode } from 'react';

interface Props {
  /** Reserved height until the content mounts, so the page does not jump. */
  height: number;
  children: ReactNode;
  /** How far outside the viewport it already mounts (IntersectionObserver rootMargin). */
  margin?: string;
}

/** Mounts its children once they scroll near the viewport (then keeps them mounted). */
export function WhenVisible({ height, children, margin = '200px' }: Props): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    const element = box.current;
    if (!element || visible) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setVisible(true);
      },
      { rootMargin: margin },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [visible, margin]);
  if (visible) return children;
  return <div ref={box} className="chart-placeholder" style={{ height }} />;
}
