/* Charts of the live boards and the end-of-day summary (ECharts, SVG so that they print).
 * Each chart is a [data-chart] element whose data sits in the JSON script named by
 * data-source; the labels come translated in data-* attributes. Charts are drawn on load and
 * again after each HTMX refresh of the board. */
(function () {
  "use strict";

  function read(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var OPTIONS = {
    hours: function (rows, labels) {
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [labels.issued, labels.served] },
        grid: { left: 40, right: 16, top: 36, bottom: 28 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.hour + ":00"; }) },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: labels.issued, type: "bar", data: rows.map(function (r) { return r.issued; }) },
          { name: labels.served, type: "bar", data: rows.map(function (r) { return r.served; }) }
        ]
      };
    },
    waits: function (rows, labels) {
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, top: 16, bottom: 48 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.label; }),
                 axisLabel: { interval: 0, rotate: 30 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ name: labels.tickets, type: "bar", data: rows.map(function (r) { return r.tickets; }) }]
      };
    },
    levels: function (rows, labels) {
      function percent(value) { return value === null ? null : Math.round(value * 1000) / 10; }
      return {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
        legend: { top: 0, data: [labels.level, labels.target] },
        grid: { left: 40, right: 16, top: 36, bottom: 28 },
        xAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
        yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        series: [
          { name: labels.level, type: "bar", data: rows.map(function (r) { return percent(r.level); }) },
          { name: labels.target, type: "line", step: "middle",
            data: rows.map(function (r) { return percent(r.target); }) }
        ]
      };
    }
  };

  function draw(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var rows = read(element.dataset.source);
      var build = OPTIONS[element.dataset.chart];
      if (!rows || !build) { return; }
      var old = window.echarts.getInstanceByDom(element);
      if (old) { old.dispose(); }
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      var option = build(rows, element.dataset);
      option.animation = false;
      chart.setOption(option);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var chart = window.echarts && window.echarts.getInstanceByDom(element);
      if (chart) { chart.resize(); }
    });
  });
})();
