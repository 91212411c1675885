// The admin console's tenants table as Firestore queries: filters by equality, search by one
// `array-contains` on the prefix keys, one sort, and a cursor for the page. One page view reads
// pageSize + 1 documents (the extra one says whether there is a next page), however many tenants exist.
// scripts/bench-console.ts runs these same queries at 1,000 and 50,000 tenants.
import {
  collection,
  limit,
  orderBy,
  query,
  startAfter,
  where,
  type Firestore,
  type Query,
  type QueryConstraint,
  type QueryDocumentSnapshot,
} from 'firebase/firestore';
import { searchKeyFor } from '../../../functions/src/domain/console';
import { PLAN_IDS, type PlanId } from '../../../functions/src/domain/plans';
import { TENANT_SOURCES, TENANT_STATUSES, type TenantSource, type TenantStatus } from '../../../functions/src/domain/status';

export const TENANT_SORTS = {
  newest: { label: 'Newest first', field: 'createdAt', direction: 'desc' },
  oldest: { label: 'Oldest first', field: 'createdAt', direction: 'asc' },
  name: { label: 'Name, A to Z', field: 'nameSort', direction: 'asc' },
  name_desc: { label: 'Name, Z to A', field: 'nameSort', direction: 'desc' },
} as const;
export type TenantSort = keyof typeof TENANT_SORTS;

export const PAGE_SIZES = [10, 25, 50] as const;
export const DEFAULT_PAGE_SIZE = 25;

export interface TenantFilters {
  search: string;
  status: TenantStatus | '';
  plan: PlanId | '';
  source: TenantSource | '';
  sort: TenantSort;
  pageSize: number;
}

const pick = <T extends string>(value: string | null, allowed: readonly T[]): T | '' => (allowed.includes(value as T) ? (value as T) : '');

/** Filters from the address bar, so a filtered table can be linked to, and Back restores it. */
export function filtersFromParams(params: URLSearchParams): TenantFilters {
  const size = Number(params.get('size'));
  return {
    search: params.get('q') ?? '',
    status: pick(params.get('status'), TENANT_STATUSES),
    plan: pick(params.get('plan'), PLAN_IDS),
    source: pick(params.get('source'), TENANT_SOURCES),
    sort: pick(params.get('sort'), Object.keys(TENANT_SORTS) as TenantSort[]) || 'newest',
    pageSize: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE,
  };
}

export function paramsFromFilters(filters: TenantFilters): Record<string, string> {
  const params: Record<string, string> = {};
  if (filters.search.trim()) params.q = filters.search.trim();
  if (filters.status) params.status = filters.status;
  if (filters.plan) params.plan = filters.plan;
  if (filters.source) params.source = filters.source;
  if (filters.sort !== 'newest') params.sort = filters.sort;
  if (filters.pageSize !== DEFAULT_PAGE_SIZE) params.size = String(filters.pageSize);
  return params;
}

/** One page of the table: `after` is the last tenant of the page before (none for the first page). */
export function tenantsPageQuery(db: Firestore, filters: TenantFilters, after?: QueryDocumentSnapshot): Query {
  const constraints: QueryConstraint[] = [];
  if (filters.status) constraints.push(where('status', '==', filters.status));
  if (filters.plan) constraints.push(where('plan', '==', filters.plan));
  if (filters.source) constraints.push(where('source', '==', filters.source));
  const key = searchKeyFor(filters.search);
  if (key) constraints.push(where('searchKeys', 'array-contains', key));
  const sort = TENANT_SORTS[filters.sort];
  constraints.push(orderBy(sort.field, sort.direction));
  if (after) constraints.push(startAfter(after));
  constraints.push(limit(filters.pageSize + 1));
  return query(collection(db, 'tenants'), ...constraints);
}
