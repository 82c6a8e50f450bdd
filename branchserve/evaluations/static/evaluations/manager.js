// The manager page's trend chart (ECharts): initiation and satisfaction rates per day.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("trend");
  const source = document.getElementById("trend-data");
  if (!box || !source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const chart = window.echarts.init(box);
  chart.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "—" : v + "%") },
    legend: {},
    xAxis: { type: "category", data: data.days },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: data.labels.initiation, type: "line", data: data.initiation, connectNulls: true },
      { name: data.labels.satisfaction, type: "line", data: data.satisfaction, connectNulls: true },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
});
