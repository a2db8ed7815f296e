-- Merges made before bridges were recorded left no trace of the values that linked them.
-- Rather than let a later erasure split what a request once linked, every cluster that
-- exists now keeps its members together: a `legacy` bridge ties each of its live contacts
-- to its oldest live contact. A legacy bridge relies on no value; it goes only when one of
-- its contacts is deleted, and then the contacts it tied stay tied (src/domain/erasure.ts).
INSERT INTO `contact_bridges` (`kind`, `emailContactId`, `phoneContactId`)
SELECT 'legacy', anchor.id, member.id
  FROM `contacts` member
  JOIN `contacts` anchor
    ON anchor.id = (
      SELECT c.id FROM `contacts` c
       WHERE c.deletedAt IS NULL
         AND coalesce(c.linkedId, c.id) = coalesce(member.linkedId, member.id)
       ORDER BY c.createdAt, c.id
       LIMIT 1
    )
 WHERE member.deletedAt IS NULL AND member.id <> anchor.id;
