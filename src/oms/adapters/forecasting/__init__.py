"""Forecast engines (the ``ForecastEngine`` port of ``oms.services.forecasting``)."""
