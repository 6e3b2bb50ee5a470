import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { TrafficSeries } from "./traffic.js";

const HEIGHT = 160;

/** Requests per second and mean time to first token over the last minutes (uPlot on a canvas). */
export function TrafficChart({ data }: { data: TrafficSeries }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = (): number => Math.max(280, element.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: HEIGHT,
        series: [
          {},
          {
            label: "requests/s",
            scale: "rate",
            stroke: "#2f7bbf",
            width: 2,
            value: (_u, v) => (v === null ? "–" : v.toFixed(2)),
          },
          {
            label: "time to first token",
            scale: "ms",
            stroke: "#c9822b",
            width: 2,
            spanGaps: false,
            value: (_u, v) => (v === null ? "–" : `${Math.round(v)} ms`),
          },
        ],
        scales: {
          rate: { range: (_u, _min, max) => [0, Math.max(1, max)] },
          ms: { range: (_u, _min, max) => [0, Math.max(10, max)] },
        },
        axes: [
          // Clock times (the default shows seconds with milliseconds over a span of minutes).
          { space: 90, values: (_u, splits) => splits.map((t) => new Date(t * 1000).toLocaleTimeString()) },
          { scale: "rate", label: "req/s" },
          { scale: "ms", side: 1, label: "ms", grid: { show: false } },
        ],
        legend: { live: false },
      },
      data,
      element,
    );
    chart.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // Made once; data arrives through setData below.
  }, []);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return (
    <div class="chart" ref={box} role="img" aria-label="Requests per second and time to first token over the last minutes" />
  );
}
