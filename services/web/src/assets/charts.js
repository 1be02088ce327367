// Renders every chart the server described (html.ts `chart`), with the ECharts served by this service.
document.querySelectorAll('.chart[data-option]').forEach((el) => {
  const chart = echarts.init(el, null, { renderer: 'svg' });
  // No animation: what is on screen (and in a screenshot) is the data, not a frame of an intro.
  chart.setOption({ animation: false, ...JSON.parse(el.getAttribute('data-option')) });
  window.addEventListener('resize', () => chart.resize());
});
document.documentElement.dataset.chartsReady = 'true';
