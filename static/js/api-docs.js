// Starts Swagger UI from local files (no CDN, no inline script: the CSP forbids both).
(function () {
  var el = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: el.getAttribute("data-spec"), domNode: el, deepLinking: true });
})();
