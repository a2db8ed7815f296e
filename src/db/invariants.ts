/**
 * Lists every violation of the invariants of docs/contract.md over the live rows of
 * `contacts`, one row per problem (none when the data is sound). Used by the
 * tests after every concurrent scenario and by `npm run db:check` against D1.
 * A full scan on purpose: it is an audit, not a request path.
 */
export const INVARIANT_VIOLATIONS_SQL = `
WITH live AS (SELECT * FROM contacts WHERE deletedAt IS NULL),
identifiers AS (
  SELECT 'email' AS kind, email AS value, id, coalesce(linkedId, id) AS cluster FROM live WHERE email IS NOT NULL
  UNION ALL
  SELECT 'phone', phoneNumber, id, coalesce(linkedId, id) FROM live WHERE phoneNumber IS NOT NULL
)
SELECT 'secondary_without_live_primary' AS violation, s.id AS contactId,
       'linkedId ' || coalesce(s.linkedId, 'null') || ' is not a live primary' AS detail
  FROM live s
  LEFT JOIN live p ON p.id = s.linkedId AND p.linkPrecedence = 'primary'
 WHERE s.linkPrecedence = 'secondary' AND p.id IS NULL
UNION ALL
SELECT CASE
         WHEN coalesce(linkPrecedence, '') NOT IN ('primary', 'secondary') THEN 'unknown_precedence'
         WHEN linkPrecedence = 'primary' AND linkedId IS NOT NULL THEN 'primary_with_link'
         ELSE 'contact_without_identifier'
       END,
       id, 'linkPrecedence ' || coalesce(linkPrecedence, 'null') || ', linkedId ' || coalesce(linkedId, 'null')
  FROM live
 WHERE coalesce(linkPrecedence, '') NOT IN ('primary', 'secondary')
    OR (linkPrecedence = 'primary' AND linkedId IS NOT NULL)
    OR (email IS NULL AND phoneNumber IS NULL)
UNION ALL
SELECT 'primary_not_oldest', p.id, 'secondary ' || s.id || ' is older'
  FROM live s
  JOIN live p ON p.id = s.linkedId
 WHERE s.createdAt < p.createdAt OR (s.createdAt = p.createdAt AND s.id < p.id)
UNION ALL
SELECT kind || '_in_several_clusters', min(id), value
  FROM identifiers
 GROUP BY kind, value
HAVING count(DISTINCT cluster) > 1
`;

/** One row of INVARIANT_VIOLATIONS_SQL. */
export type InvariantViolation = { violation: string; contactId: number; detail: string };
