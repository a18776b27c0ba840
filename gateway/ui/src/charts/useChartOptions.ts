import { useLocation } from '../routing/useLocation';
import { chartOptionsOf, chartQueryOf } from './chartOptions';
import type { ChartOptions } from './series';

/** Chart options live in the URL (`x`, `log`, `smooth`). */
export function useChartOptions(): [ChartOptions, (options: ChartOptions) => void] {
  const { query, setQuery } = useLocation();
  return [chartOptionsOf(query), (options) => setQuery(chartQueryOf(options), true)];
}
