/** One region's average grid carbon intensity with its provenance. */
export interface GridIntensity {
  /** Region code: ISO 3166-1 alpha-2, or `WORLD`. */
  region: string;
  /** Human name. */
  name: string;
  /** Grams of CO2-equivalent per kWh generated (annual average). */
  gPerKwh: number;
  /** The year the figure describes. */
  year: number;
  /** Where the figure comes from. */
  source: string;
}

const OWID =
  "Ember & Energy Institute, lifecycle carbon intensity of electricity generation (gCO2e/kWh), as tabulated by Our World in Data, grapher 'carbon-intensity-electricity'";
const EMBER_STATISTA = 'Ember, electricity generation emission intensity by country, 2023 (published July 2024, as charted by Statista)';
const EMBER_EU_STATISTA = 'Ember, carbon intensity of the power sector in the European Union by country, 2023 (lifecycle gCO2e/kWh, as charted by Statista)';

/**
 * Annual average carbon intensity of electricity generation by region. Generation-based (imports
 * excluded) and annual, so it understates hourly swings; pass --carbon-intensity for a better local figure.
 * Only figures checked against the named source are listed; a missing country is a gap, not a zero.
 */
export const GRID_INTENSITY_TABLE: readonly GridIntensity[] = [
  { region: 'WORLD', name: 'World average', gPerKwh: 481, year: 2023, source: EMBER_STATISTA },
  { region: 'AR', name: 'Argentina', gPerKwh: 354, year: 2023, source: OWID },
  { region: 'AT', name: 'Austria', gPerKwh: 111, year: 2023, source: OWID },
  { region: 'AU', name: 'Australia', gPerKwh: 549, year: 2023, source: OWID },
  { region: 'BA', name: 'Bosnia and Herzegovina', gPerKwh: 600, year: 2023, source: OWID },
  { region: 'BD', name: 'Bangladesh', gPerKwh: 691, year: 2023, source: OWID },
  { region: 'BE', name: 'Belgium', gPerKwh: 138, year: 2023, source: OWID },
  { region: 'BG', name: 'Bulgaria', gPerKwh: 335, year: 2023, source: OWID },
  { region: 'BO', name: 'Bolivia', gPerKwh: 532, year: 2023, source: OWID },
  { region: 'BR', name: 'Brazil', gPerKwh: 98, year: 2023, source: OWID },
  { region: 'CA', name: 'Canada', gPerKwh: 170, year: 2023, source: OWID },
  { region: 'CL', name: 'Chile', gPerKwh: 291, year: 2023, source: OWID },
  { region: 'CN', name: 'China', gPerKwh: 582, year: 2023, source: OWID },
  { region: 'CO', name: 'Colombia', gPerKwh: 260, year: 2023, source: OWID },
  { region: 'CR', name: 'Costa Rica', gPerKwh: 53, year: 2023, source: OWID },
  { region: 'CY', name: 'Cyprus', gPerKwh: 534, year: 2023, source: OWID },
  { region: 'CZ', name: 'Czechia', gPerKwh: 450, year: 2023, source: OWID },
  { region: 'DE', name: 'Germany', gPerKwh: 381, year: 2023, source: OWID },
  { region: 'DK', name: 'Denmark', gPerKwh: 152, year: 2023, source: OWID },
  { region: 'EC', name: 'Ecuador', gPerKwh: 150, year: 2023, source: OWID },
  { region: 'EE', name: 'Estonia', gPerKwh: 417, year: 2023, source: OWID },
  { region: 'EG', name: 'Egypt', gPerKwh: 570, year: 2023, source: OWID },
  { region: 'FI', name: 'Finland', gPerKwh: 79, year: 2023, source: OWID },
  { region: 'FR', name: 'France', gPerKwh: 56, year: 2023, source: OWID },
  { region: 'GE', name: 'Georgia', gPerKwh: 168, year: 2023, source: OWID },
  { region: 'GR', name: 'Greece', gPerKwh: 337, year: 2023, source: OWID },
  { region: 'HR', name: 'Croatia', gPerKwh: 205, year: 2023, source: OWID },
  { region: 'HU', name: 'Hungary', gPerKwh: 204, year: 2023, source: OWID },
  { region: 'IE', name: 'Ireland', gPerKwh: 291, year: 2023, source: OWID },
  { region: 'IN', name: 'India', gPerKwh: 713, year: 2023, source: OWID },
  { region: 'IR', name: 'Iran', gPerKwh: 655, year: 2023, source: OWID },
  { region: 'NO', name: 'Norway', gPerKwh: 30, year: 2023, source: EMBER_STATISTA },
  { region: 'PL', name: 'Poland', gPerKwh: 662, year: 2023, source: EMBER_EU_STATISTA },
  { region: 'SE', name: 'Sweden', gPerKwh: 41, year: 2023, source: `${EMBER_EU_STATISTA}; 40.7 rounded` },
  { region: 'SV', name: 'El Salvador', gPerKwh: 271, year: 2023, source: OWID },
];
