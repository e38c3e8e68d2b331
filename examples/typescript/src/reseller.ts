// A reseller's back office in TypeScript, with an API token:
//
//   FRONTDESK_URL=https://portal.example.com FRONTDESK_TOKEN=fdt_… \
//   node dist/reseller.js "Initech" ada@initech.example.com Ada Lovelace
//
// It lists the reseller's customers, creates a customer organisation (unless
// one of that name exists: then it stops and changes nothing), invites its
// first admin and searches the people below the reseller for the new customer.
// The reseller is the token's organisation, or RESELLER_ID (a global id).
// The token needs ORGANISATION_VIEW, CUSTOMERS_MANAGE, MEMBERS_VIEW and
// MEMBERS_MANAGE, and `privileged: true` (granting ADMIN needs it).
//
// Every operation below is typed from schema.graphql: `npm run codegen`
// generates ./gql, `npm run check` type-checks (strict), `npm run build`
// compiles to dist/.
import { client, GraphQLRequestError, ok, RefusedError } from './client.js';
import { graphql } from './gql/index.js';
import type {
  CreateOrganisationInput,
  CustomersQuery,
  InviteUserInput,
  Role,
  SearchMembersQuery,
} from './gql/graphql.js';

const TokenOrganisation = graphql(`
  query TokenOrganisation {
    viewer {
      apiToken { name organisation { id name kind } }
    }
  }
`);

const Customers = graphql(`
  query Customers($reseller: ID!, $after: String) {
    organisation(id: $reseller) {
      id
      name
      kind
      children(first: 100, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id name kind status seats { used limit } }
      }
    }
  }
`);

const CreateCustomer = graphql(`
  mutation CreateCustomer($input: CreateOrganisationInput!) {
    createOrganisation(input: $input) {
      organisation { id name kind parent { name } }
      errors { field code message }
    }
  }
`);

const InviteAdmin = graphql(`
  mutation InviteAdmin($input: InviteUserInput!) {
    inviteUser(input: $input) {
      invitation { id email role status expiresAt organisation { name } }
      errors { field code message }
    }
  }
`);

const SearchMembers = graphql(`
  query SearchMembers($reseller: ID!, $search: String!, $after: String) {
    members(
      organisationId: $reseller
      includeDescendants: true
      search: $search
      first: 50
      after: $after
    ) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id role status user { email displayName } organisation { name } }
    }
  }
`);

const FIRST_ADMIN: Role = 'ADMIN';

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(argv: readonly string[]): Promise<number> {
  const [customerName, adminEmail, firstName, lastName] = argv;
  if (!customerName || !adminEmail) {
    console.error('usage: reseller.js CUSTOMER_NAME ADMIN_EMAIL [FIRST_NAME [LAST_NAME]]');
    return 2;
  }
  const call = client(need('FRONTDESK_URL'), need('FRONTDESK_TOKEN'));

  // 1. Who we are: the token's organisation, unless RESELLER_ID says otherwise.
  let resellerId = process.env.RESELLER_ID;
  if (!resellerId) {
    const { viewer } = await call(TokenOrganisation);
    const token = viewer?.apiToken;
    if (!token) throw new Error('FRONTDESK_TOKEN is not an API token; set RESELLER_ID');
    const { id, name, kind } = token.organisation;
    console.log(`API token "${token.name}" of ${name} (${kind})`);
    resellerId = id;
  }

  // 2. Its customers, every page.
  const customers = [];
  let resellerName = '';
  for (let after: string | null | undefined = null; ; ) {
    const { organisation }: CustomersQuery = await call(Customers, { reseller: resellerId, after });
    if (!organisation) throw new Error(`organisation ${resellerId} is missing or out of reach`);
    resellerName = organisation.name;
    customers.push(...organisation.children.nodes);
    if (!organisation.children.pageInfo.hasNextPage) break;
    after = organisation.children.pageInfo.endCursor;
  }
  console.log(`${customers.length} customers of ${resellerName}:`);
  for (const c of customers.sort((a, b) => a.name.localeCompare(b.name))) {
    const { used, limit } = c.seats;
    const seats = limit == null ? `${used} seats used` : `${used}/${limit} seats`;
    console.log(`  ${c.name}  ${c.kind}  ${c.status}  ${seats}`);
  }
  const taken = customers.find((c) => c.name.toLowerCase() === customerName.toLowerCase());
  if (taken) {
    console.error(`${taken.name} is already a customer of ${resellerName}; nothing changed`);
    return 1;
  }

  // 3. The new customer.
  const customerInput: CreateOrganisationInput = {
    parentId: resellerId,
    name: customerName,
    kind: 'CUSTOMER',
  };
  const created = await call(CreateCustomer, { input: customerInput });
  const customer = ok(created.createOrganisation).organisation;
  if (!customer) throw new Error('createOrganisation returned no organisation');
  const parentName = customer.parent?.name ?? resellerName;
  console.log(`created customer ${customer.name} (${customer.kind}) under ${parentName}`);

  // 4. Its first admin, invited by mail.
  const inviteInput: InviteUserInput = {
    organisationId: customer.id,
    email: adminEmail,
    role: FIRST_ADMIN,
    firstName: firstName ?? null,
    lastName: lastName ?? null,
  };
  const invited = await call(InviteAdmin, { input: inviteInput });
  const invitation = ok(invited.inviteUser).invitation;
  if (!invitation) throw new Error('inviteUser returned no invitation');
  const until = new Date(invitation.expiresAt).toISOString().slice(0, 10);
  console.log(
    `invited ${invitation.email} as ${invitation.role ?? FIRST_ADMIN} ` +
      `of ${invitation.organisation.name} (${invitation.status} until ${until})`,
  );

  // 5. The people below the reseller that a search for the customer finds
  //    (a search matches names, addresses, phones and the organisation's name).
  const found = [];
  let total = 0;
  for (let after: string | null | undefined = null; ; ) {
    const { members }: SearchMembersQuery = await call(SearchMembers, {
      reseller: resellerId,
      search: customer.name,
      after,
    });
    total = members.totalCount;
    found.push(...members.nodes);
    if (!members.pageInfo.hasNextPage) break;
    after = members.pageInfo.endCursor;
  }
  console.log(`${total} found for "${customer.name}" below ${resellerName}:`);
  for (const m of found) {
    const where = m.organisation.name;
    console.log(`  ${m.user.email}  ${m.user.displayName}  ${m.role}  ${m.status}  at ${where}`);
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof GraphQLRequestError || error instanceof RefusedError) {
    console.error(`${error.name}: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
}
