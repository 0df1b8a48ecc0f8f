/** The JSON media types the API accepts (its own module, so the local runtime's gate loads light). */

/** A JSON media type: `application/json`, or `application/<anything>+json`, with parameters. */
export const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;.*)?$/i;
