import { onSnapshot, type QueryDocumentSnapshot } from 'firebase/firestore';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { PLAN_IDS, PLANS, type PlanId } from '../../../functions/src/domain/plans';
import { TENANT_SOURCES, TENANT_STATUSES } from '../../../functions/src/domain/status';
import { firestore } from '../firestore';
import { formatDate, formatDateTime, formatSource, formatStatus } from '../format';

const TRIAL_STATUSES: readonly string[] = ['trial', 'trial_expired'];
import { Empty, ErrorAlert, Loading, StatusBadge } from '../ui/states';
import { filtersFromParams, PAGE_SIZES, paramsFromFilters, TENANT_SORTS, tenantsPageQuery, type TenantFilters, type TenantSort } from './tenantsQuery';

interface Page {
  rows: QueryDocumentSnapshot[];
  hasNext: boolean;
}

/** /admin: every tenant, searched, filtered and sorted by Firestore, one page of documents at a time. */
export function Component() {
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  const filterKey = JSON.stringify(filters);
  // The last tenant of each page before this one: the cursors that Previous steps back through.
  const [cursors, setCursors] = useState<QueryDocumentSnapshot[]>([]);
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState(filters.search);

  useEffect(() => {
    setCursors([]);
    setSearch(filters.search);
  }, [filterKey]);

  const after = cursors[cursors.length - 1];
  useEffect(() => {
    setPage(undefined);
    setError(null);
    return onSnapshot(
      tenantsPageQuery(firestore(), filters, after),
      // The cache may hold part of a page (the extra tenant read with the page before): wait for the server's.
      { includeMetadataChanges: true },
      (snapshot) => {
        if (snapshot.metadata.fromCache) return;
        setPage({ rows: snapshot.docs.slice(0, filters.pageSize), hasNext: snapshot.size > filters.pageSize });
      },
      (failure) => setError(failure.message),
    );
  }, [filterKey, after]);

  // From the address bar as it is when the person acts, not this render's filters (nor setParams's callback, which
  // gets them too): a choice made just after "Clear the filters", before the router's transition has rendered the
  // cleared page, must not bring the old filters back.
  const apply = (change: Partial<TenantFilters>) =>
    setParams(paramsFromFilters({ ...filtersFromParams(new URLSearchParams(window.location.search)), ...change }));
  const submitSearch = (event: FormEvent) => {
    event.preventDefault();
    apply({ search });
  };
  const filtered = Boolean(filters.search || filters.status || filters.plan || filters.source);
  const pageNumber = cursors.length + 1;

  return (
    <section aria-labelledby="tenants-title">
      <div className="section-head">
        <h1 id="tenants-title">Tenants</h1>
        <Link to="/admin/new" className="button primary">
          Provision a tenant
        </Link>
      </div>
      <form className="filters card" role="search" aria-label="Filter tenants" onSubmit={submitSearch}>
        <div className="field grow">
          <label htmlFor="tenant-search">Search name or subdomain</label>
          <div className="inline">
            <input id="tenant-search" type="search" value={search} placeholder="e.g. acme" onChange={(e) => setSearch(e.target.value)} />
            <button type="submit">Search</button>
          </div>
        </div>
        <Select id="filter-status" label="Status" value={filters.status} onChange={(status) => apply({ status: status as TenantFilters['status'] })}>
          <option value="">Any status</option>
          {TENANT_STATUSES.map((status) => (
            <option key={status} value={status}>
              {formatStatus(status)}
            </option>
          ))}
        </Select>
        <Select id="filter-plan" label="Plan" value={filters.plan} onChange={(plan) => apply({ plan: plan as TenantFilters['plan'] })}>
          <option value="">Any plan</option>
          {PLAN_IDS.map((id) => (
            <option key={id} value={id}>
              {PLANS[id].label}
            </option>
          ))}
        </Select>
        <Select id="filter-source" label="Source" value={filters.source} onChange={(source) => apply({ source: source as TenantFilters['source'] })}>
          <option value="">Any source</option>
          {TENANT_SOURCES.map((source) => (
            <option key={source} value={source}>
              {formatSource(source)}
            </option>
          ))}
        </Select>
        <Select id="filter-sort" label="Sort" value={filters.sort} onChange={(sort) => apply({ sort: sort as TenantSort })}>
          {Object.entries(TENANT_SORTS).map(([id, sort]) => (
            <option key={id} value={id}>
              {sort.label}
            </option>
          ))}
        </Select>
        {filtered && (
          <button type="button" className="link clear" onClick={() => setParams({})}>
            Clear filters
          </button>
        )}
      </form>

      {error ? (
        <ErrorAlert title="The tenants could not be loaded.">{error}</ErrorAlert>
      ) : !page ? (
        <Loading>Loading tenants…</Loading>
      ) : page.rows.length === 0 ? (
        filtered || cursors.length ? (
          <Empty title="No tenants match these filters.">
            <button type="button" className="link" onClick={() => setParams({})}>
              Clear the filters
            </button>
          </Empty>
        ) : (
          <Empty title="No tenants yet.">
            <Link to="/admin/new">Provision the first one</Link>, or wait for a self-serve signup.
          </Empty>
        )
      ) : (
        <div className="card table-scroll" tabIndex={0} role="region" aria-label="Tenants table">
          <table data-testid="tenants-table">
            <caption className="visually-hidden">
              Tenants, page {pageNumber}, sorted {TENANT_SORTS[filters.sort].label.toLowerCase()}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Subdomain</th>
                <th scope="col">Status</th>
                <th scope="col">Plan</th>
                <th scope="col">Source</th>
                <th scope="col" className="num">Seats</th>
                <th scope="col">Trial ends</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((row) => {
                const tenant = row.data();
                return (
                  <tr key={row.id} data-tenant-id={row.id}>
                    <td>
                      <Link to={`/admin/tenants/${row.id}`}>{String(tenant.name)}</Link>
                    </td>
                    <td>{String(tenant.slug)}</td>
                    <td>
                      <StatusBadge status={String(tenant.status)} />
                    </td>
                    <td>{PLANS[tenant.plan as PlanId]?.label ?? String(tenant.plan)}</td>
                    <td>{formatSource(String(tenant.source))}</td>
                    <td className="num">{String(tenant.seatCap)}</td>
                    {/* A tenant that paid keeps its old trial end on the document; the column is for trials only. */}
                    <td>{TRIAL_STATUSES.includes(String(tenant.status)) ? formatDate(tenant.trialEndsAt) : '—'}</td>
                    <td>{formatDateTime(tenant.createdAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <nav className="pager" aria-label="Pages">
        <button type="button" onClick={() => setCursors((all) => all.slice(0, -1))} disabled={cursors.length === 0}>
          Previous page
        </button>
        <span aria-live="polite">Page {pageNumber}</span>
        <button type="button" onClick={() => page && setCursors((all) => [...all, page.rows[page.rows.length - 1]])} disabled={!page?.hasNext}>
          Next page
        </button>
        <label className="inline-label">
          Per page
          <select value={filters.pageSize} onChange={(e) => apply({ pageSize: Number(e.target.value) })}>
            {PAGE_SIZES.map((size) => (
              <option key={size}>{size}</option>
            ))}
          </select>
        </label>
      </nav>
    </section>
  );
}

function Select({ id, label, value, onChange, children }: { id: string; label: string; value: string; onChange: (value: string) => void; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </div>
  );
}
