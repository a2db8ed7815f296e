/** `GET /health`: the Worker is up. Touches no storage, so it stays cheap for probes. */
export function health(): Response {
  return Response.json({ status: "healthy" });
}
