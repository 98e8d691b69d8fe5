/**
 * The seed data fake referrals are drawn from: fixed pools (products, industries, services,
 * countries with their places, company names and people, sellers, partners, reasons, notes), the
 * builders of the per-seed pools (customers, solution profiles, long notes), and GeneratorContext,
 * the shape in which createGeneratorContext (generator.ts) holds one seed's pools.
 */

import { CUSTOMER_SIZE, DECLINE_REASONS as DECLINE_REASONS_OFFERED } from '../src/schema/referral-resource.js';
import type { Random } from './random.js';

export interface Organization {
  readonly id: string;
  readonly name: string;
}

/** Partner-side sign-in identities of the sandbox; they sit on some teams so role visibility can be tested. */
export interface SeededUsers {
  readonly admin: string;
  readonly user: string;
}

/** Pools built once from the seed; `createReferral` picks from them. */
export interface GeneratorContext {
  readonly now: Date;
  readonly organization: Organization;
  readonly users: SeededUsers;
  readonly businessProfileId: string;
  readonly customers: readonly CustomerSeed[];
  readonly partners: readonly Organization[];
  readonly solutionProfiles: readonly SolutionSeed[];
  readonly campaigns: readonly string[];
  readonly longNotes: readonly string[];
  /** Batch runs stamp many referrals with one lastRunId. */
  readonly runIds: readonly string[];
}

export interface Product {
  readonly id: string;
  readonly label: string;
  readonly solutionId: string;
}

export interface PersonSeed {
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly phoneNumber: string;
  readonly locale: string;
}

interface CountryProfile {
  readonly code: string;
  readonly region: string;
  readonly locale: string;
  readonly currency: string;
  readonly phonePrefix: string;
  readonly places: readonly (readonly [city: string, state: string, postalCode: string])[];
  readonly streets: readonly string[];
  readonly legalForms: readonly string[];
  /** Company names in the local script: accents, CJK, right-to-left. */
  readonly localNames: readonly string[];
  readonly people: readonly (readonly [first: string, last: string])[];
}

export interface CustomerSeed {
  readonly name: string;
  readonly size: string;
  readonly country: CountryProfile;
  readonly addressLine1: string;
  readonly addressLine2: string | null;
  readonly city: string;
  readonly state: string;
  readonly postalCode: string;
  readonly contacts: readonly PersonSeed[];
  readonly duns: string;
}

interface SolutionSeed {
  readonly id: string;
  readonly name: string;
}

export interface Seller {
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly phoneNumber: string;
  readonly locale: string;
}

export function makeCustomer(random: Random): CustomerSeed {
  const country = random.weighted(COUNTRY_WEIGHTS);
  const [city, state, postalCode] = random.pick(country.places);
  const [name, brand] = customerName(random, country);
  const domain = domainFor(random, brand);
  const contacts = Array.from({ length: 3 }, () => {
    const [first, last] = random.pick(country.people);
    return {
      firstName: first,
      lastName: last,
      email: `${emailLocalPart(random, first, last)}@${domain}`,
      phoneNumber: `${country.phonePrefix} ${random.int(100, 999)} ${random.int(100, 999)} ${random.int(1000, 9999)}`,
      locale: random.chance(0.85) ? country.locale : 'en-US',
    };
  });
  return {
    name,
    size: random.weighted(SIZE_WEIGHTS),
    country,
    addressLine1: random.pick(country.streets).replace('#', String(random.int(1, 2400))),
    addressLine2: random.weighted<string | null>([
      ['', 50],
      [`Suite ${random.int(100, 950)}`, 20],
      [`Floor ${random.int(2, 40)}`, 15],
      [null, 15],
    ]),
    city,
    state,
    postalCode,
    contacts,
    duns: String(random.int(100_000_000, 999_999_999)),
  };
}

/** The registered name and the brand (no legal form) its e-mail domain is made from. */
function customerName(random: Random, country: CountryProfile): [name: string, brand: string] {
  if (random.chance(0.012)) {
    const name = random.pick(EMOJI_NAMES);
    return [name, name];
  }
  if (country.localNames.length > 0 && random.chance(country.code === 'US' ? 0.02 : 0.3)) {
    const name = random.pick(country.localNames);
    return [name, name];
  }
  const legal = random.pick(country.legalForms);
  const brand = `${random.pick(NAME_STEMS)} ${random.pick(NAME_NOUNS)}`;
  return [legal ? `${brand} ${legal}` : brand, brand];
}

function domainFor(random: Random, name: string): string {
  const ascii = foldToAscii(name).replace(/[^a-z0-9]+/g, '');
  const stem = ascii.length >= 4 ? ascii.slice(0, 24) : `customer${random.hex(5)}`;
  return `${stem}.example`;
}

function emailLocalPart(random: Random, first: string, last: string): string {
  const local = `${foldToAscii(first)}.${foldToAscii(last)}`.replace(/[^a-z0-9.]+/g, '');
  return /^[a-z0-9]+\.[a-z0-9]+$/.test(local) ? local : `contact.${random.hex(6)}`;
}

function foldToAscii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[æÆ]/g, 'ae')
    .replace(/[øØ]/g, 'o')
    .toLowerCase();
}

export function makeSolutionProfiles(random: Random): SolutionSeed[] {
  const profiles: SolutionSeed[] = [{ id: 'SOL-34104-EBB', name: 'Contoso Cloud Migration Accelerator' }];
  for (const name of SOLUTION_PROFILE_NAMES) {
    profiles.push({ id: `SOL-${random.int(10_000, 99_999)}-${random.hex(3).toUpperCase()}`, name });
  }
  return profiles;
}

export function makeLongNote(random: Random): string {
  const paragraphs: string[] = [];
  const target = random.int(600, 4000);
  let length = 0;
  while (length < target) {
    const paragraph = random.pick(NOTE_PARAGRAPHS);
    paragraphs.push(paragraph);
    length += paragraph.length + 2;
  }
  // Windows line breaks come through from pasted e-mails now and then.
  return paragraphs.join(random.chance(0.2) ? '\r\n\r\n' : '\n\n');
}

export const PRODUCTS: readonly Product[] = (
  [
    { id: 'Microsoft365', label: 'Microsoft 365' },
    { id: 'Microsoft365', label: 'Microsoft 365' },
    { id: 'Azure', label: 'Azure' },
    { id: 'Azure', label: 'Azure' },
    { id: 'Dynamics365', label: 'Dynamics 365' },
    { id: 'Dynamics365forFieldService', label: 'Dynamics 365 Field Service' },
    { id: 'Dynamics365forSales', label: 'Dynamics 365 Sales' },
    { id: 'Dynamics365forCustomerService', label: 'Dynamics 365 Customer Service' },
    { id: 'PowerBI', label: 'Power BI' },
    { id: 'PowerApps', label: 'Power Apps' },
    { id: 'MicrosoftTeams', label: 'Microsoft Teams' },
    { id: 'Microsoft365Copilot', label: 'Microsoft 365 Copilot' },
    { id: 'AzureOpenAIService', label: 'Azure OpenAI' },
    { id: 'MicrosoftDefender', label: 'Microsoft Defender' },
    { id: 'Intune', label: 'Intune' },
    { id: 'SQLServer', label: 'SQL Server' },
    { id: 'Windows', label: 'Windows 11' },
  ] as const
).map((p) => ({ ...p, solutionId: `SOL-${p.id}` }));

export const INDUSTRIES = [
  'Education',
  'Healthcare',
  'Government',
  'FinancialServices',
  'Manufacturing',
  'RetailAndConsumerGoods',
  'ProfessionalServices',
  'MediaAndCommunications',
  'Nonprofit',
  'Energy',
  'TravelAndTransportation',
  'Automotive',
  'Agriculture',
  'HospitalityAndTravel',
];

export const SERVICES = [
  'LearningAndCertification',
  'Consulting',
  'Deployment',
  'ManagedServices',
  'Migration',
  'Support',
  'Licensing',
  'Integration',
  'CustomDevelopment',
  'Assessment',
];

export const SOLUTION_CATEGORIES = [
  'Security',
  'Data and AI',
  'Modern Work',
  'Business Applications',
  'Infrastructure',
].map((name) => ({ id: `SOL-${name.replaceAll(' ', '')}`, name }));

const SOLUTION_PROFILE_NAMES = [
  'Contoso Secure Workplace',
  'Contoso Copilot Readiness',
  'Contoso Field Service Quickstart',
  'Contoso Data Estate Modernisation',
  'Contoso Teams Phone Rollout',
  'Contoso SAP on Azure',
];

export const DEAL_KINDS = ['rollout', 'migration', 'pilot', 'renewal', 'expansion', 'assessment', 'deployment'];
export const VIA = ['PartnerCenter', 'PartnerCenter', 'Api', 'CrmConnector'];
export const CALLS_TO_ACTION = ['ContactMe', 'FreeTrial', 'TestDrive', 'RequestQuote'];
export const CUSTOMER_ACTIONS = ['Contact me', 'Request a quote', 'Request a demo', 'Start a free trial', 'Get it now'];

/** The reasons the app's decline action offers: the book's declined referrals give the same. */
export const DECLINE_REASONS: readonly string[] = DECLINE_REASONS_OFFERED;
export const LOSS_REASONS = [
  'Lost to competitor',
  'No budget',
  'Customer not responsive',
  'Timing',
  'Project cancelled',
];
export const WIN_REASONS = ['Customer signed', 'Won after proof of concept', 'Contract signed via CSP'];

export const SHORT_NOTES = [
  'We are interested in deploying Microsoft 365 and are looking for support in training our employees. Can you help?',
  'Customer wants a quote for 250 seats.',
  'Looking for help migrating our on-premises SQL Server to Azure.',
  'Please call after 3pm EST.',
  'Need a partner for a Teams Phone rollout across 4 sites.',
  'Interested in Copilot; security review first.',
  'Existing EA customer, renewal due next quarter.',
  'Customer asked for "someone local" to help with Intune.',
  'POC requested, budget approved.',
  'Follow-up from the webinar, wants pricing.',
  'Dynamics 365 Field Service for 40 technicians; go-live before summer.',
  'Send proposal, cc procurement.',
];

export const UNICODE_NOTES = [
  'Kunde möchte eine Schulung für 50 Mitarbeiter – bitte Rückruf bis Freitag.',
  'Le client souhaite migrer vers Azure d’ici la fin de l’année ; budget validé.',
  'お客様は Microsoft 365 の導入を検討中です。来週の打ち合わせを希望。',
  'العميل مهتم بحلول Azure ويرغب في عرض سعر قبل نهاية الشهر.',
  'הלקוח מעוניין בהטמעת Teams בשלושה סניפים.',
  '고객이 Power BI 교육을 요청했습니다.',
  'Cliente quer migração para o Microsoft 365 até março. 🚀',
  'Great call today 👍 — customer is keen, next step: demo 🎯',
  'Zoë from IT said: "we need this by Q3", budget €120k.',
  '客户希望在下个季度部署 Dynamics 365。',
];

export const UPDATE_NOTES = [
  'Customer asked for pricing.',
  'Demo scheduled.',
  'Sent proposal v2.',
  'Waiting on procurement.',
  'Security review passed.',
  'Kick-off call done; next step SOW.',
  'Customer postponed to next quarter.',
  'Rückmeldung vom Kunden erhalten – Angebot angepasst.',
  'Réunion de suivi planifiée.',
];

export const INVITE_NOTES = [
  'Customer needs a partner with Azure migration expertise.',
  'Microsoft seller requests co-sell support for a Copilot pilot.',
  'Looking for a local partner for deployment and adoption.',
  'Please engage within 48 hours; customer is evaluating competitors.',
  'Co-sell ready solution requested by the account team.',
];

const NOTE_PARAGRAPHS = [
  'Background: the customer runs a mixed estate of on-premises Exchange 2016 and a handful of SharePoint farms. They have started a move to Microsoft 365 but stalled after the pilot because of identity issues with their legacy AD forest.',
  'Requirements gathered on the discovery call: single sign-on for 1,200 users, conditional access for contractors, a migration plan for 4 TB of file shares, and end-user training in three languages (English, German, Polish).',
  'Budget: approved for this fiscal year, with a preference for a fixed-price engagement. Procurement requires three quotes and a signed DPA before any work starts.',
  'Timeline: pilot in the next 6 weeks, full rollout by the end of the quarter. The CIO wants a status report every two weeks.',
  "Risks: the customer's IT team is small (3 people) and one of them is leaving. They asked whether we can provide managed services after go-live.",
  'Competitive situation: another partner has pitched a lift-and-shift approach. The customer prefers a phased modernisation and "someone who has done this before in our industry".',
  'Technical notes: Azure subscription exists (pay-as-you-go), no landing zone, no hub/spoke network. ExpressRoute is being considered for the two main sites.',
  'Contacts: the IT manager is the day-to-day contact; the CFO signs off anything above €50,000. Both prefer e-mail over phone.',
  'Zusammenfassung: Der Kunde plant die Einführung von Microsoft Teams Phone an vier Standorten. Die bestehende Telefonanlage läuft Ende März aus; eine Übergangslösung wird benötigt.',
  'Résumé : le client souhaite une première phase centrée sur la sécurité (Defender, Intune) avant d’étendre le déploiement à l’ensemble des filiales.',
  '要件：既存のオンプレミス環境から Azure への移行、運用保守の外部委託、および社員向けトレーニングを希望しています。',
  'Next steps:\n- schedule a technical workshop\n- share reference architecture\n- send a draft statement of work\n- confirm licensing with the Microsoft account team',
];

export const MICROSOFT_ORGANIZATION: Organization = { id: '72f988bf-86f1-41af-91ab-2d7cd011db47', name: 'Microsoft' };

export const PARTNER_NAMES = [
  'Litware Inc.',
  'Adventure Works Consulting',
  'Proseware, Inc.',
  'Trey Research',
  'Wide World Importers Services',
  'Lucerne Publishing IT',
  'Alpine Ski House Digital',
  'Fourth Coffee Systems',
];

/** The seller the docs' example query 3 filters on. */
export const EXAMPLE_SELLER_EMAIL = 'r2d2@contoso.com';

const SELLERS: readonly Seller[] = [
  ['R2', 'D2', EXAMPLE_SELLER_EMAIL],
  ['C', '3PO', 'c3po@contoso.com'],
  ['Ana', 'Bowman', 'ana.bowman@contoso.com'],
  ['Jamal', 'Hartnett', 'jamal.hartnett@contoso.com'],
  ['Kayla', 'Lewis', 'kayla.lewis@contoso.com'],
  ['Mateo', 'Gómez', 'mateo.gomez@contoso.com'],
  ['Pradeep', 'Gupta', 'pradeep.gupta@contoso.com'],
  ['Yuki', 'Tanaka', 'yuki.tanaka@contoso.com'],
  ['Émilie', 'Dubois', 'emilie.dubois@contoso.com'],
  ['Jörg', 'Müller', 'joerg.mueller@contoso.com'],
  // A legal address with an apostrophe: OData literals must double it.
  ['Siobhán', "O'Brien", "siobhan.o'brien@contoso.com"],
].map(([firstName = '', lastName = '', email = ''], i) => ({
  firstName,
  lastName,
  email,
  phoneNumber: `+1 425-555-01${String(10 + i).padStart(2, '0')}`,
  locale: i === 7 ? 'ja-JP' : i === 8 ? 'fr-FR' : i === 9 ? 'de-DE' : 'en-US',
}));

export const SELLER_WEIGHTS: readonly (readonly [Seller, number])[] = SELLERS.map((seller, i) => [
  seller,
  i === 0 ? 6 : i === SELLERS.length - 1 ? 2 : 10,
]);

const SIZE_WEIGHTS: readonly (readonly [string, number])[] = CUSTOMER_SIZE.map((size, i) => [size, i < 8 ? 10 : 2]);

const NAME_STEMS = [
  'Fabrikam',
  'Northwind',
  'Tailspin',
  'Wingtip',
  'Adatum',
  'Blue Yonder',
  'Coho',
  'Relecloud',
  'Woodgrove',
  'Lamna',
  'Humongous',
  'Southridge',
  'VanArsdel',
  'Bellows',
  'Consolidated',
  'Lucerne',
  'Nod',
  'Graphic',
  "Margie's",
  'Best For You',
  'First Up',
  'Munson’s',
  'Datum',
  'Trey',
];

const NAME_NOUNS = [
  'Logistics',
  'Health',
  'Foods',
  'Manufacturing',
  'Consulting',
  'Retail',
  'Energy',
  'Bank',
  'Insurance',
  'Pharma',
  'Motors',
  'Airlines',
  'Software',
  'Media',
  'Studios',
  'Academy',
  'Hospital',
  'Farms',
  'Outfitters',
  'Construction',
  'Travel',
];

const EMOJI_NAMES = [
  '🚀 Rocket Science Labs',
  'Bean There ☕ Coffee Co',
  'Happy Paws 🐾 Veterinary',
  'Sunrise 🌅 Yoga Studio',
];

const EN_PEOPLE: readonly (readonly [string, string])[] = [
  ['John', 'Smith'],
  ['Maria', 'Garcia'],
  ['David', 'Johnson'],
  ['Sarah', 'Miller'],
  ['Michael', 'Brown'],
  ['Emily', 'Davis'],
  ['Chris', 'Wilson'],
  ['Priya', 'Patel'],
  ['Wei', 'Chen'],
  ['Aisha', 'Khan'],
];

const COUNTRIES: readonly (readonly [CountryProfile, number])[] = [
  [
    {
      code: 'US',
      region: 'North America',
      locale: 'en-US',
      currency: 'USD',
      phonePrefix: '+1',
      places: [
        ['Redmond', 'WA', '98052'],
        ['Seattle', 'WA', '98101'],
        ['New York', 'NY', '10001'],
        ['Austin', 'TX', '78701'],
        ['Chicago', 'IL', '60601'],
        ['San Francisco', 'CA', '94105'],
        ['Boston', 'MA', '02110'],
        ['Atlanta', 'GA', '30303'],
        ['Denver', 'CO', '80202'],
        ['Miami', 'FL', '33131'],
        ['Columbus', 'OH', '43215'],
        ['Raleigh', 'NC', '27601'],
      ],
      streets: ['One Microsoft Way', '# Main Street', '# Market St', '# Pine Ave', '# Broadway', '# Oak Street NE'],
      legalForms: ['Inc', 'Inc.', 'LLC', 'Corp', 'Corporation', ''],
      localNames: ['Café Olé LLC', 'Señor Taco Holdings'],
      people: EN_PEOPLE,
    },
    45,
  ],
  [
    {
      code: 'CA',
      region: 'North America',
      locale: 'en-CA',
      currency: 'CAD',
      phonePrefix: '+1',
      places: [
        ['Toronto', 'ON', 'M5H 2N2'],
        ['Vancouver', 'BC', 'V6B 1A1'],
        ['Montréal', 'QC', 'H3B 4W8'],
      ],
      streets: ['# King Street West', '# rue Sainte-Catherine O', '# Granville St'],
      legalForms: ['Ltd', 'Inc.', 'Ltée'],
      localNames: ['Érablière Québécoise Inc.', 'Les Entreprises Côté Ltée'],
      people: [...EN_PEOPLE, ['Amélie', 'Tremblay'], ['François', 'Gagnon']],
    },
    4,
  ],
  [
    {
      code: 'GB',
      region: 'Western Europe',
      locale: 'en-GB',
      currency: 'GBP',
      phonePrefix: '+44',
      places: [
        ['London', 'Greater London', 'EC1A 1BB'],
        ['Manchester', 'Greater Manchester', 'M1 1AE'],
        ['Edinburgh', 'Scotland', 'EH1 1YZ'],
        ['Bristol', '', 'BS1 4DJ'],
      ],
      streets: ['# High Street', '# Victoria Road', '# Station Road'],
      legalForms: ['Ltd', 'plc', 'Limited'],
      localNames: [],
      people: [
        ['Oliver', 'Jones'],
        ['Amelia', 'Taylor'],
        ['Harry', 'Evans'],
        ['Siobhán', 'Murphy'],
      ],
    },
    8,
  ],
  [
    {
      code: 'DE',
      region: 'Western Europe',
      locale: 'de-DE',
      currency: 'EUR',
      phonePrefix: '+49',
      places: [
        ['Berlin', 'BE', '10115'],
        ['München', 'BY', '80331'],
        ['Köln', 'NW', '50667'],
        ['Düsseldorf', 'NW', '40213'],
        ['Hamburg', 'HH', '20095'],
      ],
      streets: ['Hauptstraße #', 'Königsallee #', 'Friedrichstraße #'],
      legalForms: ['GmbH', 'AG', 'GmbH & Co. KG'],
      localNames: ['Müller Präzisionstechnik GmbH', 'Bäckerei Größe & Söhne', 'Straßenbau Köhler AG'],
      people: [
        ['Jürgen', 'Schäfer'],
        ['Anna', 'Müller'],
        ['Lukas', 'Weiß'],
        ['Sophie', 'Becker'],
      ],
    },
    6,
  ],
  [
    {
      code: 'FR',
      region: 'Western Europe',
      locale: 'fr-FR',
      currency: 'EUR',
      phonePrefix: '+33',
      places: [
        ['Paris', 'Île-de-France', '75001'],
        ['Lyon', 'Auvergne-Rhône-Alpes', '69002'],
        ['Marseille', "Provence-Alpes-Côte d'Azur", '13001'],
        ['Toulouse', 'Occitanie', '31000'],
      ],
      streets: ['# rue de Rivoli', '# avenue des Champs-Élysées', '# boulevard Haussmann'],
      legalForms: ['SA', 'SAS', 'SARL'],
      localNames: ['Société Générale des Eaux Bleues', 'Boulangerie Élodie & Fils', 'Crème de la Crème SARL'],
      people: [
        ['Élodie', 'Lefèvre'],
        ['Thomas', 'Bernard'],
        ['Chloé', 'Moreau'],
        ['Hélène', 'Girard'],
      ],
    },
    5,
  ],
  [
    {
      code: 'NL',
      region: 'Western Europe',
      locale: 'nl-NL',
      currency: 'EUR',
      phonePrefix: '+31',
      places: [
        ['Amsterdam', 'NH', '1012 AB'],
        ['Rotterdam', 'ZH', '3011 AA'],
      ],
      streets: ['Damrak #', 'Coolsingel #'],
      legalForms: ['B.V.', 'N.V.'],
      localNames: [],
      people: [
        ['Daan', 'de Vries'],
        ['Sanne', 'van Dijk'],
      ],
    },
    2,
  ],
  [
    {
      code: 'ES',
      region: 'Western Europe',
      locale: 'es-ES',
      currency: 'EUR',
      phonePrefix: '+34',
      places: [
        ['Madrid', 'MD', '28013'],
        ['Barcelona', 'CT', '08002'],
        ['Málaga', 'AN', '29001'],
      ],
      streets: ['Calle de Alcalá #', 'Passeig de Gràcia #'],
      legalForms: ['S.L.', 'S.A.'],
      localNames: ['Panadería Núñez S.L.', 'Construcciones Peña y Ibáñez S.A.'],
      people: [
        ['José', 'Martínez'],
        ['Lucía', 'Fernández'],
      ],
    },
    2,
  ],
  [
    {
      code: 'SE',
      region: 'Western Europe',
      locale: 'sv-SE',
      currency: 'SEK',
      phonePrefix: '+46',
      places: [
        ['Stockholm', 'AB', '111 52'],
        ['Göteborg', 'O', '411 03'],
      ],
      streets: ['Drottninggatan #', 'Kungsgatan #'],
      legalForms: ['AB'],
      localNames: ['Ångström Ljusdesign AB', 'Björk & Söner AB'],
      people: [
        ['Åsa', 'Lindström'],
        ['Erik', 'Johansson'],
      ],
    },
    1,
  ],
  [
    {
      code: 'JP',
      region: 'Asia Pacific',
      locale: 'ja-JP',
      currency: 'JPY',
      phonePrefix: '+81',
      places: [
        ['東京都千代田区', '東京都', '100-0005'],
        ['Osaka', 'Osaka', '530-0001'],
        ['Yokohama', 'Kanagawa', '220-0012'],
      ],
      streets: ['丸の内1-#', '#-1 Umeda', 'Minatomirai #-2'],
      legalForms: ['K.K.', 'Co., Ltd.'],
      localNames: ['株式会社さくらシステムズ', '富士山テクノロジー株式会社', '東京ロボティクス合同会社'],
      people: [
        ['健一', '佐藤'],
        ['Yui', 'Suzuki'],
        ['Haruto', 'Takahashi'],
      ],
    },
    5,
  ],
  [
    {
      code: 'IN',
      region: 'Asia Pacific',
      locale: 'en-IN',
      currency: 'INR',
      phonePrefix: '+91',
      places: [
        ['Bengaluru', 'KA', '560001'],
        ['Mumbai', 'MH', '400001'],
        ['Hyderabad', 'TG', '500081'],
        ['New Delhi', 'DL', '110001'],
      ],
      streets: ['# MG Road', '# Linking Road', '# Hitech City Road'],
      legalForms: ['Pvt Ltd', 'Private Limited', 'LLP'],
      localNames: ['सूर्या इन्फोटेक प्राइवेट लिमिटेड'],
      people: [
        ['Ananya', 'Iyer'],
        ['Rahul', 'Sharma'],
        ['Priya', 'Nair'],
      ],
    },
    5,
  ],
  [
    {
      code: 'AU',
      region: 'Asia Pacific',
      locale: 'en-AU',
      currency: 'AUD',
      phonePrefix: '+61',
      places: [
        ['Sydney', 'NSW', '2000'],
        ['Melbourne', 'VIC', '3000'],
        ['Brisbane', 'QLD', '4000'],
      ],
      streets: ['# George Street', '# Collins Street'],
      legalForms: ['Pty Ltd'],
      localNames: [],
      people: [
        ['Jack', 'Wilson'],
        ['Charlotte', 'Brown'],
      ],
    },
    4,
  ],
  [
    {
      code: 'BR',
      region: 'Latin America',
      locale: 'pt-BR',
      currency: 'BRL',
      phonePrefix: '+55',
      places: [
        ['São Paulo', 'SP', '01310-100'],
        ['Rio de Janeiro', 'RJ', '20040-002'],
      ],
      streets: ['Avenida Paulista, #', 'Rua da Assembleia, #'],
      legalForms: ['Ltda', 'S.A.'],
      localNames: ['Açaí Comércio de Alimentos Ltda', 'São Jorge Logística S.A.'],
      people: [
        ['João', 'Conceição'],
        ['Fernanda', 'Araújo'],
      ],
    },
    3,
  ],
  [
    {
      code: 'MX',
      region: 'Latin America',
      locale: 'es-MX',
      currency: 'MXN',
      phonePrefix: '+52',
      places: [
        ['Ciudad de México', 'CDMX', '06000'],
        ['Monterrey', 'NL', '64000'],
      ],
      streets: ['Paseo de la Reforma #', 'Avenida Constitución #'],
      legalForms: ['S.A. de C.V.'],
      localNames: ['Tecnología Azteca S.A. de C.V.'],
      people: [
        ['Alejandro', 'Hernández'],
        ['Sofía', 'López'],
      ],
    },
    2,
  ],
  [
    {
      code: 'AE',
      region: 'Middle East and Africa',
      locale: 'ar-AE',
      currency: 'AED',
      phonePrefix: '+971',
      places: [
        ['Dubai', 'Dubai', ''],
        ['Abu Dhabi', 'Abu Dhabi', ''],
      ],
      streets: ['Sheikh Zayed Road, Tower #', 'Al Maryah Island, Building #'],
      legalForms: ['LLC', 'FZ-LLC'],
      localNames: ['شركة الخليج للحلول التقنية', 'مؤسسة النخيل للتجارة'],
      people: [
        ['محمد', 'العلي'],
        ['Fatima', 'Al Mansouri'],
        ['Omar', 'Haddad'],
      ],
    },
    2,
  ],
  [
    {
      code: 'SA',
      region: 'Middle East and Africa',
      locale: 'ar-SA',
      currency: 'SAR',
      phonePrefix: '+966',
      places: [['الرياض', 'Riyadh', '11564']],
      streets: ['King Fahd Road #'],
      legalForms: ['Co.'],
      localNames: ['شركة الرياض للأنظمة الذكية'],
      people: [
        ['عبدالله', 'القحطاني'],
        ['Noura', 'Al Saud'],
      ],
    },
    1,
  ],
  [
    {
      code: 'IL',
      region: 'Middle East and Africa',
      locale: 'he-IL',
      currency: 'ILS',
      phonePrefix: '+972',
      places: [
        ['Tel Aviv-Yafo', 'Tel Aviv', '6100000'],
        ['ירושלים', 'Jerusalem', '9100000'],
      ],
      streets: ['Rothschild Blvd #', 'רחוב יפו #'],
      legalForms: ['Ltd.'],
      localNames: ['אופק טכנולוגיות בע"מ', 'מרכז רפואי הדר'],
      people: [
        ['נועה', 'כהן'],
        ['Yossi', 'Levi'],
      ],
    },
    2,
  ],
  [
    {
      code: 'KR',
      region: 'Asia Pacific',
      locale: 'ko-KR',
      currency: 'KRW',
      phonePrefix: '+82',
      places: [['서울특별시', 'Seoul', '04524']],
      streets: ['세종대로 #', '# Teheran-ro'],
      legalForms: ['Co., Ltd.'],
      localNames: ['한빛 소프트웨어 주식회사'],
      people: [
        ['민준', '김'],
        ['Seo-yeon', 'Park'],
      ],
    },
    1,
  ],
  [
    {
      code: 'SG',
      region: 'Asia Pacific',
      locale: 'en-SG',
      currency: 'SGD',
      phonePrefix: '+65',
      places: [['Singapore', '', '018956']],
      streets: ['# Marina Boulevard'],
      legalForms: ['Pte Ltd'],
      localNames: ['新加坡云科技私人有限公司'],
      people: [
        ['Wei Ling', 'Tan'],
        ['Arjun', 'Menon'],
      ],
    },
    1,
  ],
  [
    {
      code: 'ZA',
      region: 'Middle East and Africa',
      locale: 'en-ZA',
      currency: 'ZAR',
      phonePrefix: '+27',
      places: [['Johannesburg', 'GP', '2000']],
      streets: ['# Rivonia Road'],
      legalForms: ['(Pty) Ltd'],
      localNames: [],
      people: [
        ['Thabo', 'Nkosi'],
        ['Lerato', 'Dlamini'],
      ],
    },
    1,
  ],
];

const COUNTRY_WEIGHTS = COUNTRIES;
