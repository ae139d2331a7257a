FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml requirements.lock README.md ./
COPY backend ./backend
COPY push ./push
COPY migrations ./migrations
RUN pip install -c requirements.lock -e .
RUN useradd --system --uid 1000 fieldcrm
USER fieldcrm
EXPOSE 8000
CMD ["fieldcrm", "serve", "--migrate", "--host", "0.0.0.0", "--port", "8000"]
