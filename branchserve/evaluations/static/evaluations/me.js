// The teller's page: the trend of their initiation and satisfaction rates per day (ECharts).
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("trend");
  const source = document.getElementById("trend-data");
  if (!box || !source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const chart = window.echarts.init(box);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: {},
    xAxis: { type: "category", data: data.days },
    yAxis: [
      { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      { type: "value", minInterval: 1, splitLine: { show: false } },
    ],
    series: [
      { name: data.labels.initiation, type: "line", data: data.initiation, connectNulls: true },
      { name: data.labels.satisfaction, type: "line", data: data.satisfaction, connectNulls: true },
      {
        name: data.labels.transactions,
        type: "bar",
        yAxisIndex: 1,
        data: data.transactions,
        itemStyle: { opacity: 0.3 },
      },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
});
