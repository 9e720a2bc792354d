// Renders /api/v1/openapi.yaml with the vendored Swagger UI. A separate file, not an
// inline script, so the page keeps a Content-Security-Policy without 'unsafe-inline'.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // "Try it out" sends real requests to this server, as a curl would.
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
