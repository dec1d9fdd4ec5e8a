// The reconciliation's variance chart, drawn with the vendored Chart.js from the figures the
// page carries in data-chart (the CSP forbids inline scripts). Bars past the axis limit are
// clipped on purpose: their month label and the table below carry the real figure.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.getElementById("variance-chart");
    if (!canvas || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var y = { title: { display: true, text: data.title } };
    if (data.bound !== null) { y.min = -data.bound; y.max = data.bound; }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.title,
          data: data.values,
          backgroundColor: data.values.map(function (v) { return v < 0 ? "#b45f06" : "#0b5394"; })
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: y },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return data.texts[item.dataIndex]; } } }
        }
      }
    });
  });
})();
