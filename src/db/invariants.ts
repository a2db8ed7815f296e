/**
 * Lists every violation of the invariants of docs/contract.md over the live rows of
 * `contacts` and the bridges, one row per problem (none when the data is sound): one
 * primary per cluster, its oldest, no chains, no orphans, no value in two clusters, no
 * bridge across clusters, every cluster one connected component (so that after any
 * erasure each component has its own primary), and no cluster holding both contacts of a
 * separation. Used by the
 * tests after every concurrent scenario and by `npm run db:check` against D1.
 * A full scan on purpose: it is an audit, not a request path; roughly linear in the table
 * size (every step an index or rowid lookup), so that it runs over legacy clusters of
 * tens of thousands of contacts.
 */
export const INVARIANT_VIOLATIONS_SQL = `
WITH
-- A cluster must be one connected component: every live contact reachable from its
-- cluster's primary, inside the cluster, through a shared email or phone or a bridge.
-- Through value nodes (contact -> its value -> that value's holders in the cluster), so
-- that UNION visits each value once per cluster instead of once per holder: linear, where
-- contact-to-contact joins were quadratic in the holders of a shared value. The table
-- itself, not a CTE of the live rows, so that each step is an index or rowid lookup; a
-- value in a column of its own (not one column with the ids) so that it is compared as
-- text and the email and phone indexes apply. Five terms: no more fit D1's limit.
kinds(kind) AS (VALUES ('email'), ('phone')),
reach(kind, contactId, value, root) AS (
  SELECT 'contact', id, NULL, id FROM contacts WHERE deletedAt IS NULL AND linkPrecedence = 'primary'
  UNION
  SELECT k.kind, NULL, CASE k.kind WHEN 'email' THEN c.email ELSE c.phoneNumber END, r.root
    FROM reach r
    JOIN contacts c ON c.id = r.contactId
    JOIN kinds k
   WHERE r.kind = 'contact' AND CASE k.kind WHEN 'email' THEN c.email ELSE c.phoneNumber END IS NOT NULL
  UNION
  SELECT 'contact', o.id, NULL, r.root
    FROM reach r
    JOIN contacts o ON o.email = r.value
   WHERE r.kind = 'email' AND o.deletedAt IS NULL AND coalesce(o.linkedId, o.id) = r.root
  UNION
  SELECT 'contact', o.id, NULL, r.root
    FROM reach r
    JOIN contacts o ON o.phoneNumber = r.value
   WHERE r.kind = 'phone' AND o.deletedAt IS NULL AND coalesce(o.linkedId, o.id) = r.root
  UNION
  SELECT 'contact', o.id, NULL, r.root
    FROM reach r
    JOIN contact_bridges b ON b.emailContactId = r.contactId OR b.phoneContactId = r.contactId
    JOIN contacts o ON o.id = CASE b.emailContactId WHEN r.contactId THEN b.phoneContactId ELSE b.emailContactId END
   WHERE r.kind = 'contact' AND o.deletedAt IS NULL AND coalesce(o.linkedId, o.id) = r.root
),
-- Its own compound SELECT: D1 allows only a few terms in one.
linkage(violation, contactId, detail) AS (
SELECT 'bridge_across_clusters', b.emailContactId,
       'bridge ' || b.id || ' ties contact ' || b.emailContactId || ' to ' || b.phoneContactId || ' of another cluster'
  FROM contact_bridges b
  JOIN contacts e ON e.id = b.emailContactId
  JOIN contacts p ON p.id = b.phoneContactId
 WHERE e.deletedAt IS NULL AND p.deletedAt IS NULL AND coalesce(e.linkedId, e.id) <> coalesce(p.linkedId, p.id)
UNION ALL
-- Invariant 6: no cluster holds both contacts of a standing separation.
SELECT 'separated_contacts_in_one_cluster', l.id,
       'separation ' || s.id || ' keeps contacts ' || l.id || ' and ' || h.id || ' apart, both in cluster '
         || coalesce(l.linkedId, l.id)
  FROM contact_separations s
  JOIN contacts l ON l.id = s.lowContactId
  JOIN contacts h ON h.id = s.highContactId
 WHERE l.deletedAt IS NULL AND h.deletedAt IS NULL AND coalesce(l.linkedId, l.id) = coalesce(h.linkedId, h.id)
UNION ALL
-- Clusters holding soft-deleted rows are left out: what linked them may be in those rows.
SELECT 'cluster_not_connected', c.id,
       'no shared value or bridge links it to primary ' || coalesce(c.linkedId, c.id)
  FROM contacts c
 WHERE c.deletedAt IS NULL
   AND c.id NOT IN (SELECT contactId FROM reach WHERE kind = 'contact')
   AND coalesce(c.linkedId, c.id) NOT IN (SELECT coalesce(linkedId, id) FROM contacts WHERE deletedAt IS NOT NULL)
)
SELECT 'secondary_without_live_primary' AS violation, s.id AS contactId,
       'linkedId ' || coalesce(s.linkedId, 'null') || ' is not a live primary' AS detail
  FROM contacts s
  LEFT JOIN contacts p ON p.id = s.linkedId AND p.linkPrecedence = 'primary' AND p.deletedAt IS NULL
 WHERE s.deletedAt IS NULL AND s.linkPrecedence = 'secondary' AND p.id IS NULL
UNION ALL
SELECT CASE
         WHEN coalesce(linkPrecedence, '') NOT IN ('primary', 'secondary') THEN 'unknown_precedence'
         WHEN linkPrecedence = 'primary' AND linkedId IS NOT NULL THEN 'primary_with_link'
         ELSE 'contact_without_identifier'
       END,
       id, 'linkPrecedence ' || coalesce(linkPrecedence, 'null') || ', linkedId ' || coalesce(linkedId, 'null')
  FROM contacts
 WHERE deletedAt IS NULL
   AND (coalesce(linkPrecedence, '') NOT IN ('primary', 'secondary')
     OR (linkPrecedence = 'primary' AND linkedId IS NOT NULL)
     OR (email IS NULL AND phoneNumber IS NULL))
UNION ALL
SELECT 'primary_not_oldest', p.id, 'secondary ' || s.id || ' is older'
  FROM contacts s
  JOIN contacts p ON p.id = s.linkedId
 WHERE s.deletedAt IS NULL AND p.deletedAt IS NULL
   AND (s.createdAt < p.createdAt OR (s.createdAt = p.createdAt AND s.id < p.id))
UNION ALL
SELECT kind || '_in_several_clusters', min(id), value
  FROM (
    SELECT 'email' AS kind, email AS value, id, coalesce(linkedId, id) AS cluster
      FROM contacts WHERE deletedAt IS NULL AND email IS NOT NULL
    UNION ALL
    SELECT 'phone', phoneNumber, id, coalesce(linkedId, id)
      FROM contacts WHERE deletedAt IS NULL AND phoneNumber IS NOT NULL
  )
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
