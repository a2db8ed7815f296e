/**
 * Lists every violation of the invariants of docs/contract.md over the live rows of
 * `contacts` and the bridges, one row per problem (none when the data is sound): one
 * primary per cluster, its oldest, no chains, no orphans, no value in two clusters, no
 * bridge across clusters, every cluster one connected component (so that after any
 * erasure each component has its own primary), and no cluster holding both contacts of a
 * separation. Used by the
 * tests after every concurrent scenario and by `npm run db:check` against D1.
 * A full scan on purpose: it is an audit, not a request path.
 */
export const INVARIANT_VIOLATIONS_SQL = `
WITH live AS (SELECT * FROM contacts WHERE deletedAt IS NULL),
identifiers AS (
  SELECT 'email' AS kind, email AS value, id, coalesce(linkedId, id) AS cluster FROM live WHERE email IS NOT NULL
  UNION ALL
  SELECT 'phone', phoneNumber, id, coalesce(linkedId, id) FROM live WHERE phoneNumber IS NOT NULL
),
-- Every live contact reachable from its cluster's primary, inside the cluster, through a
-- shared email or phone or a bridge: a cluster must be one connected component.
reach(id, root) AS (
  SELECT id, id FROM live WHERE linkPrecedence = 'primary'
  UNION
  SELECT o.id, r.root
    FROM reach r
    JOIN live c ON c.id = r.id
    JOIN live o ON coalesce(o.linkedId, o.id) = r.root AND (o.email = c.email OR o.phoneNumber = c.phoneNumber)
  UNION
  SELECT o.id, r.root
    FROM reach r
    JOIN contact_bridges b ON r.id IN (b.emailContactId, b.phoneContactId)
    JOIN live o ON o.id IN (b.emailContactId, b.phoneContactId) AND coalesce(o.linkedId, o.id) = r.root
),
-- Its own compound SELECT: D1 allows only a few terms in one.
linkage(violation, contactId, detail) AS (
SELECT 'bridge_across_clusters', b.emailContactId,
       'bridge ' || b.id || ' ties contact ' || b.emailContactId || ' to ' || b.phoneContactId || ' of another cluster'
  FROM contact_bridges b
  JOIN live e ON e.id = b.emailContactId
  JOIN live p ON p.id = b.phoneContactId
 WHERE coalesce(e.linkedId, e.id) <> coalesce(p.linkedId, p.id)
UNION ALL
-- Invariant 6: no cluster holds both contacts of a standing separation.
SELECT 'separated_contacts_in_one_cluster', l.id,
       'separation ' || s.id || ' keeps contacts ' || l.id || ' and ' || h.id || ' apart, both in cluster '
         || coalesce(l.linkedId, l.id)
  FROM contact_separations s
  JOIN live l ON l.id = s.lowContactId
  JOIN live h ON h.id = s.highContactId
 WHERE coalesce(l.linkedId, l.id) = coalesce(h.linkedId, h.id)
UNION ALL
-- Clusters holding soft-deleted rows are left out: what linked them may be in those rows.
SELECT 'cluster_not_connected', c.id,
       'no shared value or bridge links it to primary ' || coalesce(c.linkedId, c.id)
  FROM live c
 WHERE c.id NOT IN (SELECT id FROM reach)
   AND coalesce(c.linkedId, c.id) NOT IN (SELECT coalesce(linkedId, id) FROM contacts WHERE deletedAt IS NOT NULL)
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
UNION ALL
SELECT * FROM linkage
`;

/** One row of INVARIANT_VIOLATIONS_SQL. */
export type InvariantViolation = { violation: string; contactId: number; detail: string };

/** One row of overLimitClustersSql: a cluster over the cluster limits, by its root. */
export type OverLimitCluster = { root: number; emails: number; phones: number; contacts: number };

/**
 * Lists every cluster over the cluster limits (older data, or a lowered limit), largest
 * first. Not an invariant violation: such a cluster is answered as it is and never grows.
 * A cluster with more contacts than `emails + phones` is listed too: the service treats it
 * as over its limits. A full scan, like INVARIANT_VIOLATIONS_SQL; the limits are inlined
 * (whole numbers) so that `wrangler d1 execute --command` can run it.
 */
export function overLimitClustersSql(limits: { emails: number; phones: number }): string {
  const [emails, phones] = [limits.emails, limits.phones].map((n) => {
    if (!Number.isSafeInteger(n)) throw new Error(`not a whole number: ${n}`);
    return n;
  });
  return `
SELECT coalesce(linkedId, id) AS root, count(DISTINCT email) AS emails,
       count(DISTINCT phoneNumber) AS phones, count(*) AS contacts
  FROM contacts
 WHERE deletedAt IS NULL
 GROUP BY root
HAVING emails > ${emails} OR phones > ${phones} OR contacts > ${emails} + ${phones}
 ORDER BY contacts DESC, root
`;
}
