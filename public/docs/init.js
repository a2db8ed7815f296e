// Starts Swagger UI on the Worker's own document. A file rather than an inline script, so
// the page runs under the Content-Security-Policy of public/_headers (scripts from this origin only).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Swagger UI would otherwise send the document to validator.swagger.io for a badge.
  validatorUrl: null,
  displayRequestDuration: true,
});
