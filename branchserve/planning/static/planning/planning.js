/* The strategy lab's charts. Each chart is a <div data-chart="kind" data-source="id"> whose
   data sit in <script type="application/json" id="id"> (Django's json_script); the strategy
   comparison arrives later by HTMX, so charts are also drawn in every swapped fragment. */
(function () {
  "use strict";

  var palette = ["#1f6feb", "#d97706", "#7c3aed", "#059669", "#dc2626", "#6b7280"];

  function data(el) {
    var source = document.getElementById(el.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  function base(labels) {
    return {
      color: palette,
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: 56, top: 48, bottom: 32 },
      xAxis: { type: "category", data: labels },
    };
  }

  var builders = {
    arrivals: function (d) {
      var option = base(d.labels);
      option.yAxis = [
        { type: "value", name: d.text.perSlot, minInterval: 1 },
        { type: "value", name: d.text.index, splitLine: { show: false } },
      ];
      option.series = d.tiers.map(function (tier) {
        return { name: tier.name, type: "bar", stack: "arrivals", data: tier.data };
      });
      option.series.push(
        { name: d.text.low, type: "line", data: d.low, symbol: "none", lineStyle: { type: "dashed", width: 1 }, color: "#6b7280" },
        { name: d.text.high, type: "line", data: d.high, symbol: "none", lineStyle: { type: "dashed", width: 1 }, color: "#9ca3af" },
        {
          name: d.text.dispersion, type: "line", yAxisIndex: 1, data: d.dispersion, color: "#dc2626",
          markLine: { symbol: "none", silent: true, data: [{ yAxis: 1 }], lineStyle: { color: "#dc2626", type: "dotted" } },
        }
      );
      return option;
    },
    counters: function (d) {
      var option = base(d.labels);
      option.yAxis = [
        { type: "value", name: d.text.counters, minInterval: 1 },
        { type: "value", name: d.text.minutes, splitLine: { show: false } },
      ];
      option.series = [
        { name: d.text.recommended, type: "bar", data: d.recommended },
        { name: d.text.actual, type: "bar", data: d.actual },
        { name: d.text.erlang, type: "line", step: "middle", data: d.erlang, symbol: "none", lineStyle: { type: "dashed" } },
        { name: d.text.wait, type: "line", yAxisIndex: 1, data: d.wait },
        { name: d.text.actualWait, type: "line", yAxisIndex: 1, data: d.actualWait },
      ];
      return option;
    },
    strategies: function (d) {
      var option = base(d.labels);
      option.xAxis.axisLabel = { interval: 0, width: 150, overflow: "break" };
      option.grid.bottom = 64;
      option.yAxis = [{ type: "value", name: d.text.minutes }];
      option.series = d.series.map(function (s) {
        return { name: s.name, type: "bar", data: s.data };
      });
      option.series.push({ name: d.text.cost, type: "line", data: d.cost, color: "#dc2626" });
      return option;
    },
  };

  function draw(root) {
    if (typeof window.echarts === "undefined") return;
    var scope = root && root.querySelectorAll ? root : document;
    var charts = Array.prototype.slice.call(scope.querySelectorAll("[data-chart]"));
    if (scope.matches && scope.matches("[data-chart]")) charts.push(scope);
    charts.forEach(function (el) {
      var build = builders[el.dataset.chart];
      var d = data(el);
      if (!build || !d) return;
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
      chart.setOption(build(d), true);
      el.dataset.drawn = "true";
    });
  }

  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (event) { draw(event.detail && event.detail.elt); });
})();
